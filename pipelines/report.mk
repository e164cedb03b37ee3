# report.mk — the demo summary and the paper's table, for any pipeline that includes mt.mk.
TOOLS        := $(dir $(lastword $(MAKEFILE_LIST)))tools
PIPELINE     := $(firstword $(MAKEFILE_LIST))
TABLE_LABELS ?= 10 50 100 250 1000
TABLE_PROPAGATIONS ?= knn ncut
TABLE_SEEDS  ?= 0 1 2
TABLE_STAGE  ?= pseudo#     pseudo (pseudo-label accuracy only) | evaluate (also finetune and test)
TABLE_DIR    := $(ROOT)/table-$(METRIC_TAG)-$(TABLE_STAGE)

.PHONY: demo summary table

demo: evaluate
	@$(MAKE) --no-print-directory -f $(PIPELINE) summary

# Each stage's artifact with the time its tool took, then the evaluations.
summary:
	@sh $(TOOLS)/summary.sh $(DATA)/train.h5 $(DATA)/test.h5 $(TRAIN_FEATURES) $(SPLIT) \
	  $(if $(filter knn,$(PROPAGATION)),,$(GRAPH)) $(if $(filter ncut,$(PROPAGATION)),$(EIGEN)) \
	  $(PSEUDO) $(SELECTION) $(MODEL)
	@echo; echo "pseudo-labels ($(PROPAGATION), $(LABELS_PER_CLASS) labels per class, seed $(SEED)):"; cat $(PSEUDO_EVAL:.json=.txt)
	@if [ -f $(TEST_EVAL:.json=.txt) ]; then echo; echo "test set ($(ARCH) finetuned on the selection):"; cat $(TEST_EVAL:.json=.txt); fi

# Sweeps label counts x propagation methods x seeds through TABLE_STAGE, then writes results.md (mean
# +- std over seeds) and the accuracy-coverage curves of seed 0 overlaid in one picture.
table:
	@set -e; for labels in $(TABLE_LABELS); do for propagation in $(TABLE_PROPAGATIONS); do for seed in $(TABLE_SEEDS); do \
	  $(MAKE) --no-print-directory -f $(PIPELINE) LABELS_PER_CLASS=$$labels PROPAGATION=$$propagation SEED=$$seed $(TABLE_STAGE); \
	done; done; done
	@mkdir -p $(TABLE_DIR)
	python3 $(TOOLS)/results.py --metric $(METRIC_TAG) --out $(TABLE_DIR)/results.md $(if $(filter evaluate,$(TABLE_STAGE)),--with-test) \
	  $(foreach l,$(TABLE_LABELS),$(foreach p,$(TABLE_PROPAGATIONS),$(foreach s,$(TABLE_SEEDS),\
	    $(l):$(p):$(s):$(MDIR)/$(if $(filter knn,$(p)),knn,$(if $(filter spread,$(p)),spread-k$(K),ncut-k$(K)-n$(EIGENPAIRS)))/n$(l)-s$(s))))
	$(MT_BIN)/mt-eval pseudo $(MT_FLAGS) --truth $(DATA)/train.h5 --plot $(TABLE_DIR) \
	  $(foreach l,$(TABLE_LABELS),$(foreach p,$(TABLE_PROPAGATIONS),\
	    $(MDIR)/$(if $(filter knn,$(p)),knn,$(if $(filter spread,$(p)),spread-k$(K),ncut-k$(K)-n$(EIGENPAIRS)))/n$(l)-s0/pseudo.h5 --name $(p)-$(l))) > /dev/null
	@cat $(TABLE_DIR)/results.md; echo "wrote $(TABLE_DIR)/results.md and $(TABLE_DIR)/accuracy-coverage.png"
