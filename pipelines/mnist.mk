# MNIST pipeline: make -f pipelines/mnist.mk [VARIABLE=value ...] TARGET
#   targets: demo (everything, then a summary), evaluate, model, select, pseudo, split, features, table
#   MNIST_DIR: folder with the four idx .gz files; LIMIT=N: only the first N training images (and N/5 test)
DATASET   := mnist
MNIST_DIR ?= ../shared/datasets/mnist
LIMIT     ?=

include $(dir $(lastword $(MAKEFILE_LIST)))mt.mk

$(DATA)/train.h5: CMD = mt-features import mnist $(MNIST_DIR) --split train $(if $(LIMIT),--limit $(LIMIT))
$(DATA)/test.h5:  CMD = mt-features import mnist $(MNIST_DIR) --split test $(if $(LIMIT),--limit $(shell echo $$(( $(LIMIT) / 5 ))))
$(DATA)/train.h5 $(DATA)/test.h5: $(recorded)
	@mkdir -p $(@D)
	$(run)

include $(dir $(lastword $(MAKEFILE_LIST)))report.mk
