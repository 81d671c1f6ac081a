# leadscore task runner. `make help` lists the targets.
# The README's two commands are `make demo` and `make test`; .ci/run calls `make test`.

CARGO ?= cargo
SHELL := /bin/bash
EXAMPLE_MODEL := models/example.toml

VENV := .venv
MOTO := $(VENV)/bin/moto_server
# Pinned: the version measured to work here (../shared/reference/tooling.md).
MOTO_VERSION := 5.2.5

.PHONY: help setup demo test fmt-check clippy unit check-model infra-lint lambda sam-build sam-package bench fmt

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: $(MOTO) ## Install the test tools (moto, in a Python venv at .venv)

$(MOTO):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet "moto[server]==$(MOTO_VERSION)"

SAM := $(VENV)/bin/sam
# Pinned with moto's: the versions measured to work together (../shared/reference/tooling.md).
$(SAM): $(MOTO)
	$(VENV)/bin/pip install --quiet "cfn-lint==1.58.0" "aws-sam-cli==1.170.0"

infra-lint: $(SAM) ## The SAM template: cfn-lint, sam validate --lint, and cfn-lint on its SAM expansion
	$(VENV)/bin/cfn-lint infra/template.yaml
	SAM_CLI_TELEMETRY=0 $(SAM) validate --lint --template infra/template.yaml --region us-east-1
	@mkdir -p target
	$(VENV)/bin/python infra/scripts/expand.py infra/template.yaml target/expanded-template.json
	$(VENV)/bin/cfn-lint target/expanded-template.json
	cd infra/scripts && ../../$(VENV)/bin/python -m unittest --quiet test_lambda_sizes test_template

CARGO_LAMBDA := $(VENV)/bin/cargo-lambda
# Pinned: the version measured to work here; it brings zig (the ziglang package) for linking.
CARGO_LAMBDA_VERSION := 1.9.2
$(CARGO_LAMBDA): $(MOTO)
	$(VENV)/bin/pip install --quiet "cargo-lambda==$(CARGO_LAMBDA_VERSION)"

# The functions and the size every deployment zip must stay under (6 MB; Lambda allows 50).
FUNCTIONS := ingest sweep notify
LAMBDA_ZIP_LIMIT := 6000000

lambda: $(CARGO_LAMBDA) ## Release arm64 zips of the functions (target/lambda/<fn>/bootstrap.zip), each under 6 MB
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(abspath $(VENV))/bin:$$PATH" $(CARGO) lambda build --release --arm64 --locked \
		--output-format zip $(foreach f,$(FUNCTIONS),--bin $(f))
	$(VENV)/bin/python infra/scripts/lambda_sizes.py target/lambda $(LAMBDA_ZIP_LIMIT) $(FUNCTIONS)

sam-build: lambda $(SAM) ## make lambda, then sam build: .aws-sam/build, ready for sam deploy
	SAM_CLI_TELEMETRY=0 $(SAM) build

sam-package: sam-build ## sam build, then sam package against moto's S3: the deployed code is the zips CI checked
	cd infra/scripts && ../../$(VENV)/bin/python -m unittest --quiet test_package

demo: ## Run leadscore locally: 300 generated leads over 90 days through the real handlers
	$(CARGO) run -q -p leadscore -- model check $(EXAMPLE_MODEL)
	@echo
	$(CARGO) run -q -p leadscore -- demo --model $(EXAMPLE_MODEL)

test: setup fmt-check clippy check-model infra-lint sam-package unit ## Everything CI runs (ends with the test totals)

fmt-check: ## Formatting
	$(CARGO) fmt --all --check

clippy: ## Lints, warnings are errors
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit: setup ## Unit, property, golden, CLI and moto-backed store tests, then their totals
	@mkdir -p target; set -o pipefail; $(CARGO) test --workspace --locked 2>&1 | tee target/test.log
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "tests: %d passed, %d failed\n", p, f; if (p == 0) exit 1 }' target/test.log

check-model: ## The example model validates
	$(CARGO) run -q --locked -p leadscore -- model check $(EXAMPLE_MODEL)

bench: ## Benchmarks (see docs/benchmarks.md)
	$(CARGO) bench -p leadscore-domain --bench engine
	$(CARGO) bench -p leadscore-domain --bench ratio

fmt: ## Format the code
	$(CARGO) fmt --all
