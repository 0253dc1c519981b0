"""Training: presets, replay of the base's own answers, the records that are trained, the
training job and its plan, and bundles for another machine. train_data.py and
bundle_train.py are copied into bundles: they import nothing of kwdesk.
"""
