"""The model lab: measure classifiers and generators on your own labelled data (`evaluate`), and
fine-tune with LoRA (`finetune`). The models themselves live in core/models/."""
