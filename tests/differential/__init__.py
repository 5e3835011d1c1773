"""The differential test of the InfluxQL engine against a real InfluxDB 1.x."""
