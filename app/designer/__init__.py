"""The process designer's workspace: diagrams, drafts, forms, validation, deploy and migration."""
