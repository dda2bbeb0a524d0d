# shellcheck shell=bash
# Lints the AWS SAM template (infra/template.yaml) and checks that its DynamoDB table is the one
# the code creates (shared/store/src/dynamodb/schema.rs). Meant to be sourced by the test entry
# point, not run:
#
#   source tests/infra.sh
#
# What it does:
# - installs cfn-lint==$CFN_LINT_VERSION into a virtualenv under
#   ${CRM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crm-tools}/cfn-lint-$CFN_LINT_VERSION, once
#   (the directory is keyed by version; a half-finished install is redone);
# - runs `cfn-lint --include-checks I infra/template.yaml` (cfn-lint checks the SAM resources
#   against SAM's own schemas, the rest against CloudFormation's); any finding fails, errors,
#   warnings and informational ones alike;
# - parses the template with the PyYAML that cfn-lint brings (CloudFormation's short tags such as
#   !Ref, !GetAtt and !Sub read as their long forms) and compares it with the Rust code: the
#   table's keys, indexes, projection, billing mode and TTL attribute (schema.rs, table.rs,
#   limits.rs), the dead-letter queue's retention and redrive (sqs/setup.rs, maxReceiveCount 5),
#   the queue's visibility timeout against the scorer's timeout and batching window, and each
#   function's runtime, architecture, build method and binary (an existing `[[bin]]`); it also
#   fails if any statement grants dynamodb:Scan.
#
# On any failure it prints why on stderr and returns non-zero (so `set -e` scripts stop). It
# needs no AWS account, no Docker and no network once cfn-lint is installed.

CFN_LINT_VERSION=1.58.0

_infra_fail() {
    printf 'tests/infra.sh: %s\n' "$*" >&2
    return 1
}

# Installs cfn-lint into its virtualenv unless a finished install is already there.
_infra_install() {
    # shellcheck source=tests/lib/venv.sh
    source "$(dirname "${BASH_SOURCE[0]}")/lib/venv.sh" ||
        { _infra_fail "cannot read tests/lib/venv.sh"; return 1; }
    CFN_LINT_VENV=$(pinned_venv tests/infra.sh cfn-lint "$CFN_LINT_VERSION" "cfn-lint==$CFN_LINT_VERSION" cfn-lint) ||
        return 1
}

_infra_lint() {
    local template=$1 output status=0
    # cfn-lint exits non-zero on errors (2), warnings (4) and, with `--include-checks I`,
    # informational findings (8); every finding fails the tests. No rule is switched off; one that
    # ever must be goes in the template's Metadata.cfn-lint.config.ignore_checks with the reason.
    output=$("$CFN_LINT_VENV/bin/cfn-lint" --include-checks I --format parseable -- "$template" 2>&1) ||
        status=$?
    if ((status != 0)); then
        printf '%s\n' "$output" >&2
        _infra_fail "cfn-lint $CFN_LINT_VERSION found problems in $template (exit $status, listed above)"
        return 1
    fi
    printf 'tests/infra.sh: cfn-lint %s: %s is clean\n' "$CFN_LINT_VERSION" "$template" >&2
}

# The drift check: the template against the values the Rust code declares.
_infra_check_drift() {
    local root=$1
    "$CFN_LINT_VENV/bin/python" - "$root" <<'PYTHON'
import re
import sys
from pathlib import Path

import yaml

root = Path(sys.argv[1])
problems = []


def expect(what, actual, wanted):
    if actual != wanted:
        problems.append(f"{what}: the template has {actual!r}, expected {wanted!r}")


class TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags as their long forms: `!Ref X` as {"Ref": "X"},
    `!GetAtt A.B` as {"Fn::GetAtt": ["A", "B"]}, `!Sub s` as {"Fn::Sub": "s"}, and so on."""


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref" or suffix == "Condition":
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


TemplateLoader.add_multi_constructor("!", _any_tag)

template = yaml.load((root / "infra/template.yaml").read_text(), Loader=TemplateLoader)
resources = template.get("Resources", {})


def resources_of(kind):
    return {name: r for name, r in resources.items() if r.get("Type") == kind}


# --- What the Rust code declares -------------------------------------------------------------
schema = (root / "shared/store/src/dynamodb/schema.rs").read_text()
limits = (root / "shared/store/src/limits.rs").read_text()
table_rs = (root / "shared/store/src/table.rs").read_text()
setup = (root / "shared/store/src/sqs/setup.rs").read_text()


def rust_const(source, name, path):
    found = re.search(rf'const {name}: &str = "([^"]*)";', source)
    if not found:
        problems.append(f"{path} no longer declares the string constant {name}")
        return None
    return found.group(1)


pk = rust_const(limits, "PK_ATTR", "limits.rs")
sk = rust_const(limits, "SK_ATTR", "limits.rs")
ttl = rust_const(table_rs, "TTL_ATTR", "table.rs")
gsi_names = [rust_const(schema, "GSI1_NAME", "schema.rs"), rust_const(schema, "GSI2_NAME", "schema.rs")]
# Index::key_attrs() in table.rs: the index attributes are `{gsi}pk` / `{gsi}sk`.
gsi_attrs = re.findall(r'Index::Gsi\d\s*=>\s*\("([^"]+)",\s*"([^"]+)"\)', table_rs)
if len(gsi_attrs) != 2:
    problems.append("table.rs: could not read the two (pk, sk) pairs of Index::key_attrs()")
for needle, what in [
    ("BillingMode::PayPerRequest", "billing mode PAY_PER_REQUEST"),
    ("ProjectionType::All", "index projection ALL"),
    ("ScalarAttributeType::S", "string key attributes"),
]:
    if needle not in schema:
        problems.append(f"schema.rs no longer uses {needle} ({what}); update this check and the template")
dead_letter_retention = re.search(r'DEAD_LETTER_RETENTION_SECONDS: &str = "(\d+)"', setup)
if not dead_letter_retention:
    problems.append("sqs/setup.rs no longer declares DEAD_LETTER_RETENTION_SECONDS")

# --- The table -------------------------------------------------------------------------------
tables = resources_of("AWS::DynamoDB::Table")
if len(tables) != 1:
    problems.append(f"expected exactly one AWS::DynamoDB::Table, found {sorted(tables)}")
else:
    (table_name, table), = tables.items()
    props = table.get("Properties", {})
    expect("table BillingMode", props.get("BillingMode"), "PAY_PER_REQUEST")
    expect("table KeySchema", props.get("KeySchema"),
           [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}])
    wanted_attrs = {pk: "S", sk: "S"}
    for a, b in gsi_attrs:
        wanted_attrs[a] = "S"
        wanted_attrs[b] = "S"
    actual_attrs = {d.get("AttributeName"): d.get("AttributeType")
                    for d in props.get("AttributeDefinitions", [])}
    expect("table AttributeDefinitions", actual_attrs, wanted_attrs)
    wanted_indexes = {
        name: {
            "IndexName": name,
            "KeySchema": [{"AttributeName": a, "KeyType": "HASH"},
                          {"AttributeName": b, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }
        for name, (a, b) in zip(gsi_names, gsi_attrs)
    }
    actual_indexes = {i.get("IndexName"): i for i in props.get("GlobalSecondaryIndexes", [])}
    expect("table GlobalSecondaryIndexes", actual_indexes, wanted_indexes)
    expect("table TimeToLiveSpecification", props.get("TimeToLiveSpecification"),
           {"AttributeName": ttl, "Enabled": True})
    expect("table point-in-time recovery",
           props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"), True)
    expect("table SSE", props.get("SSESpecification", {}).get("SSEEnabled"), True)
    expect("table DeletionPolicy", table.get("DeletionPolicy"), "Retain")
    expect("table UpdateReplacePolicy", table.get("UpdateReplacePolicy"), "Retain")
    if "TableName" in props:
        problems.append("the table must not have a fixed TableName (a retained table would block a redeploy)")

# --- The queues and the scorer's timing ----------------------------------------------------------
queues = resources_of("AWS::SQS::Queue")
events = queues.get("EventsQueue", {}).get("Properties", {})
dead_letter = queues.get("EventsDeadLetterQueue", {}).get("Properties", {})
if not events or not dead_letter:
    problems.append("expected the SQS queues EventsQueue and EventsDeadLetterQueue")
else:
    redrive = events.get("RedrivePolicy", {})
    expect("EventsQueue RedrivePolicy.maxReceiveCount", redrive.get("maxReceiveCount"), 5)
    expect("EventsQueue RedrivePolicy.deadLetterTargetArn", redrive.get("deadLetterTargetArn"),
           {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]})
    if dead_letter_retention:
        expect("EventsDeadLetterQueue MessageRetentionPeriod", dead_letter.get("MessageRetentionPeriod"),
               int(dead_letter_retention.group(1)))
    # SQS measures a dead-lettered message's age from its first enqueue: the DLQ must keep
    # messages longer than the queue, or a message could expire on arrival.
    if not events.get("MessageRetentionPeriod", 345600) < dead_letter.get("MessageRetentionPeriod", 0):
        problems.append("EventsQueue must keep messages for less time than its dead-letter queue")

# The transitions queue: redriven like the events queue, named to scheduled-jobs by the variable
# its Lambda reads (functions/scheduled-jobs/src/lambda.rs).
transitions = queues.get("TransitionsQueue", {}).get("Properties", {})
transitions_dead = queues.get("TransitionsDeadLetterQueue", {}).get("Properties", {})
lambda_rs = (root / "functions/scheduled-jobs/src/lambda.rs").read_text()
transitions_var = rust_const(lambda_rs, "TRANSITIONS_QUEUE_URL_VAR", "scheduled-jobs/src/lambda.rs")
if not transitions or not transitions_dead:
    problems.append("expected the SQS queues TransitionsQueue and TransitionsDeadLetterQueue")
else:
    redrive = transitions.get("RedrivePolicy", {})
    expect("TransitionsQueue RedrivePolicy.maxReceiveCount", redrive.get("maxReceiveCount"), 5)
    expect("TransitionsQueue RedrivePolicy.deadLetterTargetArn", redrive.get("deadLetterTargetArn"),
           {"Fn::GetAtt": ["TransitionsDeadLetterQueue", "Arn"]})
    if not transitions.get("MessageRetentionPeriod", 345600) < transitions_dead.get("MessageRetentionPeriod", 0):
        problems.append("TransitionsQueue must keep messages for less time than its dead-letter queue")

functions = resources_of("AWS::Serverless::Function")
scorer = functions.get("EventScorerFunction", {}).get("Properties", {})
if not scorer:
    problems.append("expected the AWS::Serverless::Function EventScorerFunction")
else:
    sqs_events = [e.get("Properties", {}) for e in scorer.get("Events", {}).values() if e.get("Type") == "SQS"]
    if len(sqs_events) != 1:
        problems.append("EventScorerFunction must have exactly one SQS event")
    else:
        mapping = sqs_events[0]
        expect("scorer FunctionResponseTypes", mapping.get("FunctionResponseTypes"), ["ReportBatchItemFailures"])
        window = mapping.get("MaximumBatchingWindowInSeconds", 0)
        timeout = scorer.get("Timeout")
        visibility = events.get("VisibilityTimeout")
        # AWS: at least six times the function timeout, plus the batching window.
        if not (isinstance(timeout, int) and isinstance(visibility, int) and visibility >= 6 * timeout + window):
            problems.append(f"EventsQueue VisibilityTimeout {visibility!r} must be >= 6 x the scorer "
                            f"Timeout {timeout!r} + the batching window {window!r}")

# --- Every function: the binary SAM builds, the runtime, no Scan ---------------------------------
binaries = {"EventScorerFunction": "event-scorer", "AdminApiFunction": "admin-api",
            "ScheduledJobsFunction": "scheduled-jobs"}
expect("the Lambda functions", sorted(functions), sorted(binaries))
for name, binary in binaries.items():
    function = functions.get(name, {})
    props = function.get("Properties", {})
    expect(f"{name} Runtime", props.get("Runtime"), "provided.al2023")
    expect(f"{name} Handler", props.get("Handler"), "bootstrap")
    expect(f"{name} Architectures", props.get("Architectures"), ["arm64"])
    expect(f"{name} BuildMethod", function.get("Metadata", {}).get("BuildMethod"), "rust-cargolambda")
    expect(f"{name} Binary", function.get("Metadata", {}).get("BuildProperties", {}).get("Binary"), binary)
    expect(f"{name} TABLE_NAME", props.get("Environment", {}).get("Variables", {}).get("TABLE_NAME"),
           {"Ref": table_name} if len(tables) == 1 else None)
    cargo = root / "functions" / binary / "Cargo.toml"
    if not cargo.exists() or not re.search(rf'\[\[bin\]\]\s*name = "{re.escape(binary)}"', cargo.read_text()):
        problems.append(f"{name}: no [[bin]] named {binary} in functions/{binary}/Cargo.toml")
jobs_env = functions.get("ScheduledJobsFunction", {}).get("Properties", {}).get("Environment", {}).get("Variables", {})
if transitions_var:
    expect(f"ScheduledJobsFunction {transitions_var}", jobs_env.get(transitions_var), {"Ref": "TransitionsQueue"})
if re.search(r"dynamodb:(Scan|\*)", (root / "infra/template.yaml").read_text()):
    problems.append("the template grants dynamodb:Scan or dynamodb:*; no request path may scan")

if problems:
    print("tests/infra.sh: infra/template.yaml does not match the code:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    sys.exit(1)
print("tests/infra.sh: the template's table, queues and functions match the code", file=sys.stderr)
PYTHON
}

_infra_main() {
    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || { _infra_fail "cannot find the repository root"; return 1; }
    [[ -f "$root/infra/template.yaml" ]] || { _infra_fail "$root/infra/template.yaml is missing"; return 1; }
    _infra_install || return 1
    _infra_lint "$root/infra/template.yaml" || return 1
    _infra_check_drift "$root" ||
        { _infra_fail "the SAM template drifted from the code (see above)"; return 1; }
}

_infra_main
