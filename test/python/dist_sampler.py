"""PyTorch side of the distributed sampler test: torch.utils.data.DistributedSampler's indices.

dist_sampler.py CASES_JSON   CASES_JSON is a list of {n, replicas, rank, shuffle, seed, dropLast,
                             epoch}; prints the list of index lists, one per case, as JSON.
"""
import json
import sys

from torch.utils.data.distributed import DistributedSampler


class Sized:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


def indices(case):
    sampler = DistributedSampler(Sized(case['n']), num_replicas=case['replicas'], rank=case['rank'],
                                 shuffle=case['shuffle'], seed=case['seed'], drop_last=case['dropLast'])
    sampler.set_epoch(case['epoch'])
    return list(sampler)


if __name__ == '__main__':
    print(json.dumps([indices(case) for case in json.loads(sys.argv[1])]))
