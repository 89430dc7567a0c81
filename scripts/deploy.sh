#!/usr/bin/env bash
# Deploys Gardien to one resource group in one command: the infrastructure (infra-bicep/main.bicep, Event Grid
# subscriptions to storage queues included), the approval-link signing key (created only if missing), then the
# function code. Idempotent: re-running converges to the same state.
#
#   GARDIEN_API_CLIENT_ID=<api app registration client id> GARDIEN_MAIL_SENDER=<mailbox> \
#   scripts/deploy.sh --resource-group rg-gardien-dev --location westeurope --environment dev
#
# Needs: az (logged in), dotnet SDK (global.json), zip, openssl. The Bicep CLI is the NuGet-pinned one
# (Azure.Bicep.CommandLine.linux-x64, restored with tests/Gardien.Infra.Tests): templates are compiled to ARM JSON
# here, so the az CLI's own Bicep version never matters.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'USAGE'
Options:
  -g, --resource-group NAME   target resource group (created if missing)
  -l, --location REGION       region (needed only when the group does not exist yet)
  -e, --environment dev|prod  selects infra-bicep/main.<env>.bicepparam
      --package PATH.zip      deploy this prebuilt package instead of building functions/
      --skip-code             infrastructure and signing key only (no publish)
      --skip-secret           do not touch Key Vault secrets (e.g. vault closed to this network)
      --what-if               preview the infrastructure changes and exit
USAGE
}

resource_group="" location="" environment="" package="" skip_code=false skip_secret=false what_if=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    -g|--resource-group) resource_group="$2"; shift 2 ;;
    -l|--location) location="$2"; shift 2 ;;
    -e|--environment) environment="$2"; shift 2 ;;
    --package) package="$2"; shift 2 ;;
    --skip-code) skip_code=true; shift ;;
    --skip-secret) skip_secret=true; shift ;;
    --what-if) what_if=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "Unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

fail() { echo "deploy.sh: $*" >&2; exit 1; }
[[ -n "$resource_group" ]] || fail "--resource-group is required"
[[ "$environment" == dev || "$environment" == prod ]] || fail "--environment must be dev or prod"
[[ -n "${GARDIEN_API_CLIENT_ID:-}" ]] || fail "GARDIEN_API_CLIENT_ID (client ID of the API's Entra ID app registration) is not set"
[[ -n "${GARDIEN_MAIL_SENDER:-}" ]] || fail "GARDIEN_MAIL_SENDER (mailbox the app mails from when Teams delivery fails) is not set"
command -v az >/dev/null || fail "Azure CLI (az) not found"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- Bicep CLI from NuGet --------------------------------------------------------------------------------------
dotnet restore tests/Gardien.Infra.Tests --nologo -v quiet >/dev/null
bicep="${BICEP_PATH:-$(dotnet msbuild tests/Gardien.Infra.Tests -getProperty:PkgAzure_Bicep_CommandLine_linux-x64)/tools/bicep}"
[[ -x "$bicep" ]] || chmod u+x "$bicep"

compile() { # compile <template.bicep> <out.json>; any diagnostic (warnings included) stops the deployment
  local errors
  errors=$("$bicep" build "$1" --outfile "$2" 2>&1 >/dev/null) || fail "bicep build $1 failed: $errors"
  [[ -z "$errors" ]] || fail "bicep build $1 reported diagnostics:\n$errors"
}
compile infra-bicep/main.bicep "$work/main.json"
params_errors=$("$bicep" build-params "infra-bicep/main.$environment.bicepparam" --outfile "$work/main.parameters.json" 2>&1 >/dev/null) \
  || fail "bicep build-params failed: $params_errors"
[[ -z "$params_errors" ]] || fail "bicep build-params reported diagnostics: $params_errors"

# --- Resource group ----------------------------------------------------------------------------------------------
if [[ "$(az group exists --name "$resource_group")" != true ]]; then
  [[ -n "$location" ]] || fail "resource group $resource_group does not exist: pass --location to create it"
  az group create --name "$resource_group" --location "$location" --tags application=gardien "azd-env-name=$environment" -o none
fi

stamp=$(date -u +%Y%m%d%H%M%S)
if $what_if; then
  az deployment group what-if -g "$resource_group" -n "gardien-main-$stamp" \
    --template-file "$work/main.json" --parameters "@$work/main.parameters.json"
  exit 0
fi

# --- Infrastructure ----------------------------------------------------------------------------------------------
echo "Infrastructure ($environment) -> $resource_group"
az deployment group create -g "$resource_group" -n "gardien-main-$stamp" \
  --template-file "$work/main.json" --parameters "@$work/main.parameters.json" \
  --query properties.outputs -o json > "$work/outputs.json"
out() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["value"])' "$work/outputs.json" "$1"; }
app=$(out FUNCTION_APP_NAME)
vault=$(out KEY_VAULT_NAME)
secret=$(out APPROVAL_LINK_KEY_SECRET_NAME)

# --- Signing key: generated here, never in a template or parameter file ------------------------------------------
# The app reads approval-signing-key-<KeyVault__SigningKeyId> itself (no Key Vault reference): a new version of the
# secret is picked up within KeyVault__CacheDuration, the previous one still verifies during KeyVault__RotationWindow.
if ! $skip_secret; then
  if az keyvault secret show --vault-name "$vault" --name "$secret" --query id -o none 2>/dev/null; then
    echo "Secret $secret already exists in $vault (left unchanged; rotate with docs/ops.md)."
  else
    echo "Creating secret $secret in $vault"
    # Read from stdin-like temp file so the value never appears in the process list.
    openssl rand -base64 48 | tr -d '\n' > "$work/secret"
    az keyvault secret set --vault-name "$vault" --name "$secret" --file "$work/secret" --encoding utf-8 \
      --content-type "HMAC-SHA256 key (base64)" --query id -o none \
      || fail "could not write $secret to $vault: the caller needs Key Vault Secrets Officer on the vault and network access to it (prod: run from inside the VNet or use --skip-secret and docs/ops.md)"
    shred -u "$work/secret" 2>/dev/null || rm -f "$work/secret"
  fi
fi

$skip_code && { echo "Infrastructure done (--skip-code)."; exit 0; }

# --- Code ----------------------------------------------------------------------------------------------------------
if [[ -z "$package" ]]; then
  echo "Building functions/Gardien.Functions"
  dotnet publish functions/Gardien.Functions/Gardien.Functions.csproj -c Release -o "$work/publish" --nologo
  (cd "$work/publish" && zip -qr "$work/package.zip" .)
  package="$work/package.zip"
fi
echo "Publishing $package to $app (Flex Consumption one-deploy)"
az functionapp deployment source config-zip -g "$resource_group" -n "$app" --src "$package" -o none

echo "Done: $(out FUNCTION_APP_URL)"
echo "Identity principal for Graph app roles (docs/ops.md): $(out IDENTITY_PRINCIPAL_ID)"
