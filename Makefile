# mt: the two commands a new user needs are `make demo` and `make test` (see README.md).
# Everything else here is what they are made of.

SWIFT      ?= swift
BUILD_DIR  ?= .build
BIN        := $(BUILD_DIR)/release
MNIST_DIR  ?= ../shared/datasets/mnist
OUT        ?= out
DEMO_EPOCHS ?= 3
VENV       ?= .venv
PYTHON     := $(VENV)/bin/python
DEBIAN_PACKAGES := libhdf5-dev libopenblas-dev liblapacke-dev libpng-dev libturbojpeg0-dev libfaiss-dev zlib1g-dev pkg-config hdf5-tools python3-venv strace slurm-wlm

.PHONY: all setup build test demo table python clean

all: build

# Installs the Debian packages mt needs, only those missing (needs root or sudo).
setup:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$(echo $$missing)"; \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "mt needs the Swift toolchain (6.0 or newer) on PATH: https://www.swift.org/install/linux/"; exit 1; }

# Tests are built too (with testability, as `swift test` would), so `make test` reuses this one build.
build: setup
	$(SWIFT) build -c release --build-tests -Xswiftc -enable-testing --build-path $(BUILD_DIR) \
	  --explicit-target-dependency-import-check error

# A Python environment for the interoperability and reference tests: h5py, numpy, scikit-learn (the
# clustering metrics' reference), Pillow (the resizing reference) and PyTorch's CPU-only build. Without
# network access those tests skip with a message.
python: $(VENV)/.ready-v3
$(VENV)/.ready-v3:
	@python3 -m venv $(VENV) && $(PYTHON) -m pip install -q numpy h5py scikit-learn pillow && touch $@ \
	  || echo "note: could not set up $(VENV) (h5py interop tests will skip)"
	@$(PYTHON) -m pip install -q "torch==2.13.0+cpu" 2>/dev/null \
	  || echo "note: PyTorch not installed in $(VENV) (the torch2h5 round trip will skip)"

# Unit and end-to-end tests, in the release configuration the tools ship in. Serial: the Debian HDF5
# library is not thread-safe and the tests share it in one process.
test: build python
	MT_BIN_DIR=$(abspath $(BIN)) MT_PYTHON=$(abspath $(PYTHON)) MNIST_DIR=$(abspath $(MNIST_DIR)) \
	  $(SWIFT) test -c release --build-path $(BUILD_DIR) --skip-build --no-parallel

# The main job: the MNIST pipeline from import to test accuracy, with a summary at the end.
demo: build
	@if [ ! -f "$(MNIST_DIR)/train-images-idx3-ubyte.gz" ]; then \
	  echo "MNIST not found in $(MNIST_DIR)."; \
	  echo "Download the four files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,"; \
	  echo "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from the MNIST database"; \
	  echo "(yann.lecun.com/exdb/mnist or any mirror) into a folder, then run: make demo MNIST_DIR=that/folder"; \
	  exit 2; fi
	@$(MAKE) --no-print-directory -f pipelines/mnist.mk MT_BIN=$(abspath $(BIN)) MNIST_DIR=$(abspath $(MNIST_DIR)) OUT=$(OUT) EPOCHS=$(DEMO_EPOCHS) demo

# The paper's experiment on MNIST, as the README reports it: a SimCLR metric (2 epochs), then 10, 50, 100
# and 1000 labels x kNN voting and normalised cut x seeds 0-2, finetuned for 300 steps on every
# pseudo-label weighted by confidence, with pixel and PCA baselines, supervised-only, all labels, round 2.
TABLE_FLAGS ?= METRIC=simclr METRIC_EPOCHS=2 SELECT=ratio:1 ITERATIONS=300 ORACLE_EPOCHS=2
table: build
	@$(MAKE) --no-print-directory -f pipelines/mnist.mk MT_BIN=$(abspath $(BIN)) MNIST_DIR=$(abspath $(MNIST_DIR)) OUT=$(OUT) $(TABLE_FLAGS) table

clean:
	rm -rf $(BUILD_DIR) $(OUT)
