"""The certificate fixtures (a final pass, a signing key, an issued certificate) for batches."""

from tests.certificates.conftest import certificate, final_pass, signing_key  # noqa: F401
