"""Line protocol: the shared data model, escaping, encoding and the strict parser."""
