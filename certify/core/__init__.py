"""Cross-domain building blocks: time, errors, authentication, masking, i18n."""
