# `make docs` builds the documentation site into site/ (mkdocs-material, strict).
# `make test` and `make demo` are the README's two commands.
.PHONY: docs test demo
docs:
	scripts/docs
test:
	scripts/test
demo:
	scripts/demo
