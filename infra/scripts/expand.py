"""Expands the SAM template offline (aws-sam-translator) so cfn-lint checks what SAM generates.

cfn-lint 1.x no longer expands SAM resources itself (../shared/reference/tooling.md): a bad event
source property would pass unnoticed. Local CodeUri/ContentUri paths become placeholder S3 URIs,
which is what `sam package` would put there.

Usage: python infra/scripts/expand.py infra/template.yaml OUT.json
"""
import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    def load(self):
        return {}


def main(src, dst):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(src) as f:
        template = yaml_parse(f.read())
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = "s3://placeholder-bucket/" + props[key].strip("./")
    expanded = transform(template, {}, NoManagedPolicies())
    with open(dst, "w") as f:
        json.dump(expanded, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
