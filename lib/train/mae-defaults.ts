// MAE's published defaults for its two evaluation protocols, as facebookresearch/mae's argparse
// gives them; without LibTorch, so that the CLI's help can state them.

/**
 * MAE's defaults. Linear probe (main_linprobe.py): blr 0.1, weight decay 0, 10 warm-up epochs of
 * 90, min lr 0. Fine-tuning (main_finetune.py's argparse): blr 1e-3, weight decay 0.05, layer
 * decay 0.75, 5 warm-up epochs of 50, min lr 1e-6, label smoothing 0.1, drop path 0.1.
 */
export const MAE_DEFAULTS = {
  linprobe: { blr: 0.1, weightDecay: 0, warmupEpochs: 10, epochs: 90, minLr: 0 },
  finetune: { blr: 1e-3, weightDecay: 0.05, layerDecay: 0.75, warmupEpochs: 5, epochs: 50, minLr: 1e-6, labelSmoothing: 0.1, dropPath: 0.1 },
} as const;
