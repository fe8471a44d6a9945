#!/bin/sh
# Creates ./secrets for compose.yaml: random values for the database password and the
# pseudonym key, empty files for the tokens you paste from Meta and Matrix. Compose mounts
# each file as it is, so the files are readable (0644) for the container's unprivileged
# user; the folder (0700) keeps other users of this machine out.
set -eu
cd "$(dirname "$0")"
mkdir -p -m 700 secrets
chmod 700 secrets
umask 022
[ -s secrets/postgres_password ] || openssl rand -base64 32 > secrets/postgres_password
[ -s secrets/pseudonym_key ] || openssl rand -base64 32 > secrets/pseudonym_key
for name in whatsapp_access_token whatsapp_app_secret whatsapp_verify_token matrix_access_token; do
    [ -e "secrets/$name" ] || : > "secrets/$name"
done
echo "Paste the tokens into secrets/whatsapp_* and secrets/matrix_access_token."
echo "Back up secrets/pseudonym_key apart from the database (README: High availability)."
