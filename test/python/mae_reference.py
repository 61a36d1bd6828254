"""MAE side of the masked-autoencoder parity tests: a transcription of MAE's MaskedAutoencoderViT
(facebookresearch/mae models_mae.py with util/pos_embed.py's 2-D sine-cosine table, the blocks
as timm's Block that MAE imports), written for these tests so that it runs on any torch without
timm. Every command pins torch to one thread.

make DIR NAME SEED CFG     torch.manual_seed(SEED); MaskedAutoencoderViT(**CFG) (CFG: JSON of its
                           arguments): NAME.pth (its state_dict as made).
input DIR NAME N SIZE L SEED  a seeded [N, 3, SIZE, SIZE] batch (NAME.f32) and [N, L] uniform
                           noise (NAME-noise.f32).
forward DIR NAME CFG FILE INPUT RATIO  the model of CFG loading FILE (strict), on INPUT's images and
                           noise at mask ratio RATIO: NAME-out.json (loss), NAME-pred.f32, NAME-mask.f32,
                           NAME-ids.i64, NAME-grads.pth (the trainable parameters' gradients).
noise DIR NAME N L SEED    torch.rand(N, L, generator=torch.Generator().manual_seed(SEED)): NAME.f32.
encoder DIR NAME CFG FILE INPUT  MAE's fine-tuning start: models_vit's VisionTransformer (timm's,
                           class token, final norm, no head) of CFG's encoder size loading FILE's
                           'model' (MAE's released layout) with strict=False, the only missing keys
                           the head's; NAME-features.f32: the class token after the final norm
                           on INPUT's images.
train DIR NAME CFG FILE RUN  main_pretrain.py's optimizer and engine_pretrain.py's steps on the model
                           of CFG loading FILE: timm's add_weight_decay groups, AdamW(betas 0.9/0.95),
                           before each step lr_sched.adjust_learning_rate at step / steps per epoch;
                           RUN (JSON): lr, weight_decay, warmup_epochs, epochs, mask_ratio, n, size,
                           seed (the images), noise_seeds (one per step: each step's noise is
                           torch.rand(N, L) of a generator seeded so). NAME-images.f32: the steps'
                           images, NAME-train.json: losses and lrs, NAME-final.pth: the state_dict after.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)


def sincos_1d(dim, positions):
    omega = np.arange(dim // 2, dtype=np.float32)
    omega /= dim / 2.0
    omega = 1.0 / 10000 ** omega
    angles = np.einsum('m,d->md', positions.reshape(-1), omega)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def sincos_2d(dim, grid_size):
    """util/pos_embed.py get_2d_sincos_pos_embed(dim, grid_size, cls_token=True)."""
    steps = np.arange(grid_size, dtype=np.float32)
    grid = np.stack(np.meshgrid(steps, steps), axis=0).reshape([2, 1, grid_size, grid_size])
    table = np.concatenate([sincos_1d(dim // 2, grid[0]), sincos_1d(dim // 2, grid[1])], axis=1)
    return np.concatenate([np.zeros([1, dim]), table], axis=0)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, t, c = x.shape
        q, k, v = self.qkv(x).reshape(n, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        weights = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(n, t, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch_size, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class MaskedAutoencoderViT(nn.Module):
    def __init__(self, img_size=224, patch_size=16, embed_dim=1024, depth=24, num_heads=16,
                 decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16, mlp_ratio=4.0, norm_pix_loss=False):
        super().__init__()
        self.patch_size = patch_size
        self.grid = img_size // patch_size
        tokens = self.grid ** 2 + 1
        self.patch_embed = PatchEmbed(patch_size, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, embed_dim), requires_grad=False)
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.decoder_embed = nn.Linear(embed_dim, decoder_embed_dim, bias=True)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim))
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, tokens, decoder_embed_dim), requires_grad=False)
        self.decoder_blocks = nn.ModuleList([Block(decoder_embed_dim, decoder_num_heads, mlp_ratio) for _ in range(decoder_depth)])
        self.decoder_norm = nn.LayerNorm(decoder_embed_dim, eps=1e-6)
        self.decoder_pred = nn.Linear(decoder_embed_dim, patch_size ** 2 * 3, bias=True)
        self.norm_pix_loss = norm_pix_loss
        self.initialize_weights()

    def initialize_weights(self):
        self.pos_embed.data.copy_(torch.from_numpy(sincos_2d(self.pos_embed.shape[-1], self.grid)).float().unsqueeze(0))
        self.decoder_pos_embed.data.copy_(
            torch.from_numpy(sincos_2d(self.decoder_pos_embed.shape[-1], self.grid)).float().unsqueeze(0))
        w = self.patch_embed.proj.weight.data
        nn.init.xavier_uniform_(w.view([w.shape[0], -1]))
        nn.init.normal_(self.cls_token, std=0.02)
        nn.init.normal_(self.mask_token, std=0.02)
        self.apply(self.init_layer)

    @staticmethod
    def init_layer(m):
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)

    def patchify(self, imgs):
        p, h = self.patch_size, self.grid
        x = imgs.reshape(imgs.shape[0], 3, h, p, h, p)
        return torch.einsum('nchpwq->nhwpqc', x).reshape(imgs.shape[0], h * h, p * p * 3)

    def random_masking(self, x, noise, mask_ratio):
        n, length, d = x.shape
        keep = int(length * (1 - mask_ratio))
        ids_shuffle = torch.argsort(noise, dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        visible = torch.gather(x, dim=1, index=ids_shuffle[:, :keep].unsqueeze(-1).repeat(1, 1, d))
        mask = torch.ones([n, length])
        mask[:, :keep] = 0
        return visible, torch.gather(mask, dim=1, index=ids_restore), ids_restore

    def forward_encoder(self, x, noise, mask_ratio):
        x = self.patch_embed(x) + self.pos_embed[:, 1:, :]
        x, mask, ids_restore = self.random_masking(x, noise, mask_ratio)
        cls = (self.cls_token + self.pos_embed[:, :1, :]).expand(x.shape[0], -1, -1)
        x = torch.cat((cls, x), dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x), mask, ids_restore

    def forward_decoder(self, x, ids_restore):
        x = self.decoder_embed(x)
        tokens = self.mask_token.repeat(x.shape[0], ids_restore.shape[1] + 1 - x.shape[1], 1)
        rest = torch.cat([x[:, 1:, :], tokens], dim=1)
        rest = torch.gather(rest, dim=1, index=ids_restore.unsqueeze(-1).repeat(1, 1, x.shape[2]))
        x = torch.cat([x[:, :1, :], rest], dim=1) + self.decoder_pos_embed
        for blk in self.decoder_blocks:
            x = blk(x)
        return self.decoder_pred(self.decoder_norm(x))[:, 1:, :]

    def forward_loss(self, imgs, pred, mask):
        target = self.patchify(imgs)
        if self.norm_pix_loss:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)
            target = (target - mean) / (var + 1.e-6) ** .5
        loss = ((pred - target) ** 2).mean(dim=-1)
        return (loss * mask).sum() / mask.sum()

    def forward(self, imgs, noise, mask_ratio=0.75):
        latent, mask, ids_restore = self.forward_encoder(imgs, noise, mask_ratio)
        pred = self.forward_decoder(latent, ids_restore)
        return self.forward_loss(imgs, pred, mask), pred, mask, ids_restore


def path(out, name):
    return os.path.join(out, name)


def read_f32(out, name, shape):
    return torch.from_numpy(np.fromfile(path(out, name), dtype=np.float32)).view(*shape)


def make(out, name, seed, cfg):
    torch.manual_seed(seed)
    model = MaskedAutoencoderViT(**cfg)
    torch.save(model.state_dict(), path(out, name + '.pth'))


def make_input(out, name, n, size, length, seed):
    g = torch.Generator().manual_seed(seed)
    torch.randn(n, 3, size, size, generator=g).numpy().tofile(path(out, name + '.f32'))
    torch.rand(n, length, generator=g).numpy().tofile(path(out, name + '-noise.f32'))
    json.dump({'shape': [n, 3, size, size], 'noise': [n, length]}, open(path(out, name + '.json'), 'w'))


def read_input(out, name):
    meta = json.load(open(path(out, name + '.json')))
    return read_f32(out, name + '.f32', meta['shape']), read_f32(out, name + '-noise.f32', meta['noise'])


def forward(out, name, cfg, file, input_name, ratio):
    model = MaskedAutoencoderViT(**cfg)
    model.load_state_dict(torch.load(file), strict=True)
    imgs, noise = read_input(out, input_name)
    loss, pred, mask, ids = model(imgs, noise, ratio)
    loss.backward()
    json.dump({'loss': loss.item()}, open(path(out, name + '-out.json'), 'w'))
    pred.detach().numpy().tofile(path(out, name + '-pred.f32'))
    mask.numpy().tofile(path(out, name + '-mask.f32'))
    ids.numpy().astype(np.int64).tofile(path(out, name + '-ids.i64'))
    grads = {k: p.grad for k, p in model.named_parameters() if p.requires_grad}
    torch.save(grads, path(out, name + '-grads.pth'))


def noise(out, name, n, length, seed):
    torch.rand(n, length, generator=torch.Generator().manual_seed(seed)).numpy().tofile(path(out, name + '.f32'))


class Encoder(nn.Module):
    """models_vit.VisionTransformer as MAE fine-tunes it from a pre-trained encoder (class token, final norm)."""

    def __init__(self, img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio):
        super().__init__()
        self.patch_embed = PatchEmbed(patch_size, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (img_size // patch_size) ** 2 + 1, embed_dim))
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Linear(embed_dim, 10)

    def features(self, x):
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), self.patch_embed(x)), dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)[:, 0]


def encoder(out, name, cfg, file, input_name):
    checkpoint = torch.load(file)['model']
    args = {k: cfg[k] for k in ('img_size', 'patch_size', 'embed_dim', 'depth', 'num_heads', 'mlp_ratio') if k in cfg}
    vit = Encoder(**{'mlp_ratio': 4.0, **args})
    report = vit.load_state_dict(checkpoint, strict=False)
    assert sorted(report.missing_keys) == ['head.bias', 'head.weight'] and not report.unexpected_keys, report
    imgs, _ = read_input(out, input_name)
    with torch.no_grad():
        vit.features(imgs).numpy().tofile(path(out, name + '-features.f32'))


def add_weight_decay(model, weight_decay=1e-5, skip_list=()):
    """timm 0.3.2's optim_factory.add_weight_decay, which main_pretrain.py calls."""
    decay = []
    no_decay = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue  # frozen weights
        if len(param.shape) == 1 or name.endswith(".bias") or name in skip_list:
            no_decay.append(param)
        else:
            decay.append(param)
    return [
        {'params': no_decay, 'weight_decay': 0.},
        {'params': decay, 'weight_decay': weight_decay}]


def adjust_learning_rate(optimizer, epoch, args):
    """util/lr_sched.py."""
    if epoch < args['warmup_epochs']:
        lr = args['lr'] * epoch / args['warmup_epochs']
    else:
        lr = args['min_lr'] + (args['lr'] - args['min_lr']) * 0.5 * \
            (1. + math.cos(math.pi * (epoch - args['warmup_epochs']) / (args['epochs'] - args['warmup_epochs'])))
    for param_group in optimizer.param_groups:
        param_group["lr"] = lr
    return lr


def train(out, name, cfg, file, run):
    model = MaskedAutoencoderViT(**cfg)
    model.load_state_dict(torch.load(file), strict=True)
    optimizer = torch.optim.AdamW(add_weight_decay(model, run['weight_decay']), lr=run['lr'], betas=(0.9, 0.95))
    args = {'min_lr': 0., **run}
    g = torch.Generator().manual_seed(run['seed'])
    steps = len(run['noise_seeds'])
    images = torch.randn(steps, run['n'], 3, run['size'], run['size'], generator=g)
    images.numpy().tofile(path(out, name + '-images.f32'))
    losses, lrs = [], []
    model.train(True)
    optimizer.zero_grad()
    for data_iter_step, noise_seed in enumerate(run['noise_seeds']):
        lrs.append(adjust_learning_rate(optimizer, data_iter_step / steps, args))
        samples = images[data_iter_step]
        noise = torch.rand(samples.shape[0], model.grid ** 2, generator=torch.Generator().manual_seed(noise_seed))
        loss, _, _, _ = model(samples, noise, run['mask_ratio'])
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    json.dump({'losses': losses, 'lrs': lrs}, open(path(out, name + '-train.json'), 'w'))
    torch.save(model.state_dict(), path(out, name + '-final.pth'))


def main(argv):
    command, out = argv[0], argv[1]
    if command == 'make':
        make(out, argv[2], int(argv[3]), json.loads(argv[4]))
    elif command == 'input':
        make_input(out, argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6]))
    elif command == 'forward':
        forward(out, argv[2], json.loads(argv[3]), argv[4], argv[5], float(argv[6]))
    elif command == 'noise':
        noise(out, argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif command == 'encoder':
        encoder(out, argv[2], json.loads(argv[3]), argv[4], argv[5])
    elif command == 'train':
        train(out, argv[2], json.loads(argv[3]), argv[4], json.loads(argv[5]))
    else:
        raise SystemExit('unknown command ' + command)


if __name__ == '__main__':
    main(sys.argv[1:])
