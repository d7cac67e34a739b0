#!/usr/bin/env bash
# `make synth`: synthesize the CDK app with the aws-cdk CLI, for dev and for prod, then lint
# every template with cfn-lint. Offline: the stacks are environment-agnostic (no account, no
# lookups), so no AWS credentials are read or needed.
#
# Run it inside the workspace environment (make synth does: uv run --locked deploy/synth.sh),
# so that `python3` has aws-cdk-lib and `cfn-lint` is on PATH.
set -euo pipefail
cd "$(dirname "$0")"

# The CLI version is pinned in package.json / package-lock.json and installed here, locally.
wanted=$(node -p "require('./package.json').devDependencies['aws-cdk']")
if [ ! -x node_modules/.bin/cdk ] || [ "$(node -p "require('aws-cdk/package.json').version" 2>/dev/null)" != "$wanted" ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi

export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=1 AWS_EC2_METADATA_DISABLED=true
# jsii warns about the machine's Node.js release on every run; that is not news about our code.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:-18,19,20,21,22,23}"

# prod refuses to synthesize without a certificate; this placeholder exists only for the lint.
placeholder_cert="arn:aws:acm:us-east-1:123456789012:certificate/synth-only-placeholder"
declare -A extra=(
    [dev]=""
    [prod]="-c certificateArn=$placeholder_cert -c domainName=photos.example.com"
)
for stage in dev prod; do
    out="cdk.out/$stage"
    rm -rf "$out"
    # shellcheck disable=SC2086 # word splitting of the extra context flags is intended
    node_modules/.bin/cdk synth --ci --quiet --no-notices --output "$out" -c stage="$stage" ${extra[$stage]}
    cfn-lint --config-file .cfnlintrc.yaml -- "$out"/*.template.json
    echo "synth: $stage: $(ls "$out"/*.template.json | wc -l) templates, cfn-lint clean ($out)"
done
