"""fastai's Learner.lr_find, transcribed, run on synthetic losses instead of a model's.

Transcribed from fastai 2.7 (fastai/callback/schedule.py: SchedExp, LRFinder, lr_find, valley,
minimum, steep; fastai/learner.py: AvgSmoothLoss; the callback order TrainEvalCallback ->
Recorder -> LRFinder of after_batch), with fastai's torch arithmetic (float32 losses, torch.lerp).
Where fastai trains a batch, this takes the next of the given raw losses.

usage: lr_find_reference.py CASES.json OUT.json
  CASES.json: [{"name", "startLr", "endLr", "numIt", "raw": [numIt losses, NaN as null]}]
  OUT.json:   {name: {"lrs", "losses", "suggestions": {"valley"|"minimum"|"steep": {"lr", "point"}}}}
"""
import json
import sys

import torch


def sched_exp(start, end, pos):
    return start * (end / start) ** pos


class AvgSmoothLoss:
    def __init__(self, beta=0.98):
        self.beta, self.count, self.val = beta, 0, torch.tensor(0.)

    def accumulate(self, loss):
        self.count += 1
        self.val = torch.lerp(loss, self.val, self.beta)

    @property
    def value(self):
        return self.val / (1 - self.beta ** self.count)


def range_test(raw, start_lr, end_lr, num_it, stop_div=True):
    num_it = max(num_it, 6)
    smooth, best = AvgSmoothLoss(), float('inf')
    lrs, losses, train_iter = [], [], 0
    while True:
        lr = sched_exp(start_lr, end_lr, train_iter / num_it)  # LRFinder.before_batch
        loss = torch.tensor(float('nan') if raw[train_iter] is None else raw[train_iter], dtype=torch.float32)
        train_iter += 1  # TrainEvalCallback.after_batch
        smooth.accumulate(loss)  # Recorder.after_batch records lr and smoothed loss
        lrs.append(lr)
        losses.append(smooth.value)
        if smooth.value < best:  # LRFinder.after_batch
            best = smooth.value
        if smooth.value > 4 * best and stop_div:
            break
        if train_iter >= num_it:
            break
    return lrs, losses


def valley(lrs, losses, num_it):
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx]), (float(lrs[idx]), losses[idx])


def minimum(lrs, losses, num_it):
    lr_min = lrs[losses.argmin()].item()
    loss_idx = losses[min(range(len(lrs)), key=lambda i: abs(lrs[i] - lr_min))]
    return lr_min / 10, (lr_min, loss_idx)


def steep(lrs, losses, num_it):
    grads = (losses[1:] - losses[:-1]) / (lrs[1:].log() - lrs[:-1].log())
    lr_steep = lrs[grads.argmin()].item()
    loss_idx = losses[min(range(len(lrs)), key=lambda i: abs(lrs[i] - lr_steep))]
    return lr_steep, (lr_steep, loss_idx)


def suggestions(recorded_lrs, recorded_losses, num_it):
    # lr_find's own trimming; torch.tensor of Python floats is float32, as fastai's tensor() gives.
    lrs = torch.tensor(recorded_lrs[num_it // 10:-5])
    losses = torch.stack(recorded_losses[num_it // 10:-5])
    nan_idxs = torch.nonzero(torch.isnan(losses.view(-1)))
    if len(nan_idxs) > 0:
        drop_idx = min(nan_idxs)
        lrs, losses = lrs[:drop_idx], losses[:drop_idx]
    out = {}
    for f in (valley, minimum, steep):
        lr, (x, y) = f(lrs, losses, num_it)
        out[f.__name__] = {'lr': float(lr), 'point': [float(x), float(y)]}
    return out


def main(cases_file, out_file):
    with open(cases_file) as f:
        cases = json.load(f)
    out = {}
    for case in cases:
        lrs, losses = range_test(case['raw'], case['startLr'], case['endLr'], case['numIt'])
        out[case['name']] = {
            'lrs': lrs,
            'losses': [None if torch.isnan(l) else float(l) for l in losses],
            'suggestions': suggestions(lrs, losses, max(case['numIt'], 6)),
        }
    with open(out_file, 'w') as f:
        json.dump(out, f)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
