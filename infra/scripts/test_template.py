"""Checks on what the stack deploys, read from SAM's expansion of infra/template.yaml (written by
`make infra-lint` to target/expanded-template.json, or expanded here when missing).

cfn-lint checks that the template is valid CloudFormation; these check that it is the stack we
mean: least privilege, no AWS-managed policies slipped in by SAM, every function on arm64 with its
own log group, and no environment variable the code does not read (a typo there is silent).
"""

import json
import os
import re
import subprocess
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPANDED = ROOT / "target" / "expanded-template.json"


def expanded_template() -> dict:
    if not EXPANDED.exists():
        EXPANDED.parent.mkdir(exist_ok=True)
        subprocess.run(
            [sys.executable, str(ROOT / "infra/scripts/expand.py"),
             str(ROOT / "infra/template.yaml"), str(EXPANDED)],
            check=True,
        )
    return json.loads(EXPANDED.read_text())


def of_type(template: dict, kind: str) -> dict:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == kind}


def statements(role: dict):
    """Every statement of the role's inline policies, with `Fn::If` branches flattened."""
    for policy in role["Properties"].get("Policies", []):
        for st in policy["PolicyDocument"]["Statement"]:
            if isinstance(st, dict) and "Fn::If" in st:
                yield from (b for b in st["Fn::If"][1:] if isinstance(b, dict) and "Effect" in b)
            else:
                yield st


def as_list(v):
    return v if isinstance(v, list) else [v]


def variables_the_code_reads() -> set[str]:
    """`LEADSCORE_*` names spelled as string literals in the Rust sources the functions build from."""
    names = set()
    for top in ("shared", "functions"):
        for path in (ROOT / top).rglob("*.rs"):
            if "tests" in path.parts:
                continue
            names.update(re.findall(r'"(LEADSCORE_[A-Z0-9_]+)"', path.read_text()))
    return names


class Stack(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = expanded_template()
        cls.functions = of_type(cls.t, "AWS::Lambda::Function")
        cls.roles = of_type(cls.t, "AWS::IAM::Role")

    def test_three_functions_on_arm64_al2023_with_their_own_roles_and_log_groups(self):
        self.assertEqual(sorted(self.functions), ["IngestFunction", "NotifyFunction", "SweepFunction"])
        roles = set()
        for name, f in self.functions.items():
            p = f["Properties"]
            self.assertEqual(p["Architectures"], ["arm64"], name)
            self.assertEqual(p["Runtime"], "provided.al2023", name)
            self.assertEqual(p["Handler"], "bootstrap", name)
            self.assertIn("LogGroup", p.get("LoggingConfig", {}), name)
            roles.add(p["Role"]["Fn::GetAtt"][0])
        self.assertEqual(len(roles), 3, "one role per function")
        for group in of_type(self.t, "AWS::Logs::LogGroup").values():
            self.assertIn("RetentionInDays", group["Properties"], "logs must expire")

    def test_no_role_has_a_wildcard_action_or_resource_or_a_managed_policy(self):
        self.assertTrue(self.roles)
        for name, role in self.roles.items():
            self.assertNotIn("ManagedPolicyArns", role["Properties"], name)
            found = list(statements(role))
            self.assertTrue(found, name)
            for st in found:
                self.assertEqual(st["Effect"], "Allow", name)
                for action in as_list(st["Action"]):
                    self.assertNotIn("*", action, f"{name}: {action}")
                for resource in as_list(st["Resource"]):
                    self.assertNotEqual(resource, "*", f"{name}: {st['Action']}")
                    text = json.dumps(resource)
                    # A wildcard is allowed only at the end of a named prefix.
                    self.assertNotRegex(text, r':\*"|/\*/|\*:', f"{name}: {text}")

    def test_each_function_gets_only_its_own_queues_and_table(self):
        def actions(role):
            return {a for st in statements(self.roles[role]) for a in as_list(st["Action"])}

        self.assertNotIn("dynamodb:GetRecords", actions("IngestRole"))
        self.assertNotIn("sqs:SendMessage", actions("IngestRole"))
        self.assertNotIn("ses:SendEmail", actions("SweepRole"))
        self.assertIn("sqs:ReceiveMessage", actions("SweepRole"), "the jobs queue event source")
        self.assertIn("dynamodb:GetRecords", actions("NotifyRole"), "the stream event source")
        for role in self.roles:
            self.assertNotIn("dynamodb:Scan", actions(role), role)
            self.assertNotIn("dynamodb:DeleteTable", actions(role), role)

    def test_every_environment_variable_is_one_the_code_reads(self):
        known = variables_the_code_reads()
        self.assertIn("LEADSCORE_TABLE", known)
        for name, f in self.functions.items():
            env = f["Properties"]["Environment"]["Variables"]
            for var in env:
                self.assertIn(var, known, f"{name} sets {var}, which no code reads")
            for var in ("LEADSCORE_TABLE", "LEADSCORE_MODEL", "LEADSCORE_MQL_THRESHOLD"):
                self.assertIn(var, env, name)

    def test_the_table_keeps_its_data(self):
        (table,) = of_type(self.t, "AWS::DynamoDB::Table").values()
        self.assertEqual(table.get("DeletionPolicy"), "Retain")
        p = table["Properties"]
        self.assertTrue(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"])
        self.assertEqual(p["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES")
        self.assertEqual(p["TimeToLiveSpecification"]["AttributeName"], "expires_at")


if __name__ == "__main__":
    os.chdir(ROOT)
    unittest.main()
