# CIFAR-10 pipeline: make -f pipelines/cifar10.mk CIFAR_DIR=cifar-10-batches-bin [VARIABLE=value ...] TARGET
#   CIFAR_DIR: the folder of the CIFAR-10 binary version (data_batch_1.bin ... test_batch.bin,
#   batches.meta.txt). METRIC=model:CKPT.h5 embeds with a network, e.g. the reference's WRN-28-2
#   instance-discrimination weights converted with pipelines/tools/torch2h5.py.
DATASET   := cifar10
CIFAR_DIR ?= cifar-10-batches-bin
LIMIT     ?=
ARCH      ?= wrn-28-2
METRIC    ?= pca

include $(dir $(lastword $(MAKEFILE_LIST)))mt.mk

$(DATA)/train.h5: CMD = mt-features import cifar10 $(CIFAR_DIR) --split train $(if $(LIMIT),--limit $(LIMIT))
$(DATA)/test.h5:  CMD = mt-features import cifar10 $(CIFAR_DIR) --split test $(if $(LIMIT),--limit $(shell echo $$(( $(LIMIT) / 5 ))))
$(DATA)/train.h5 $(DATA)/test.h5: $(recorded)
	@mkdir -p $(@D)
	$(run)

include $(dir $(lastword $(MAKEFILE_LIST)))report.mk
