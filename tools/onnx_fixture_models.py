"""The seeded PyTorch modules that ``tools/make_onnx_fixtures.py`` exports to ONNX: the five
small GAN generator families (dcgan64, cyclegan, pix2pix, sngan, progan), the two tiny
generators behind ``tests/fixtures/onnx/bad/``, and ``randomize_norms``, which gives every
BatchNorm random affine parameters and running statistics and every affine InstanceNorm random
affine parameters so a converter that ignores any of them is caught.

Weights come from torch's default initialisation (or ``torch.randn`` for the equalized-LR
layers), so the driver seeds torch before building each model; nothing here seeds anything.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def randomize_norms(model: nn.Module, gen: torch.Generator) -> None:
    """Give every BatchNorm random affine params and running stats, every affine InstanceNorm
    random affine params (so a converter that ignores any of them is caught)."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            with torch.no_grad():
                m.weight.copy_(0.5 + torch.rand(c, generator=gen))  # 0.5 .. 1.5
                m.bias.copy_(0.3 * torch.randn(c, generator=gen))
                m.running_mean.copy_(0.3 * torch.randn(c, generator=gen))
                m.running_var.copy_(0.25 + torch.rand(c, generator=gen))  # 0.25 .. 1.25
        elif isinstance(m, nn.InstanceNorm2d) and m.affine:
            c = m.num_features
            with torch.no_grad():
                m.weight.copy_(0.5 + torch.rand(c, generator=gen))
                m.bias.copy_(0.3 * torch.randn(c, generator=gen))


# --------------------------------------------------------------------------------------------
# (a) DCGAN 64x64


class DCGAN64(nn.Module):
    def __init__(self, nz=16, ngf=4, nc=3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


# --------------------------------------------------------------------------------------------
# (b) CycleGAN ResNet generator


class ResnetBlock(nn.Module):
    def __init__(self, dim, affine_first: bool, affine_second: bool):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True),
            nn.InstanceNorm2d(dim, affine=affine_first), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True),
            nn.InstanceNorm2d(dim, affine=affine_second),
        )

    def forward(self, x):
        return x + self.conv_block(x)


class CycleGAN(nn.Module):
    def __init__(self, ngf=8, nc=3, n_blocks=2):
        super().__init__()
        layers = [
            nn.ReflectionPad2d(3), nn.Conv2d(nc, ngf, 7, bias=True),
            nn.InstanceNorm2d(ngf, affine=True), nn.ReLU(True),
            nn.Conv2d(ngf, ngf * 2, 3, stride=2, padding=1, bias=True),
            nn.InstanceNorm2d(ngf * 2, affine=False), nn.ReLU(True),
            nn.Conv2d(ngf * 2, ngf * 4, 3, stride=2, padding=1, bias=True),
            nn.InstanceNorm2d(ngf * 4, affine=True), nn.ReLU(True),
        ]
        layers += [ResnetBlock(ngf * 4, affine_first=(i == 0), affine_second=(i == 1)) for i in range(n_blocks)]
        layers += [
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 3, stride=2, padding=1, output_padding=1, bias=True),
            nn.InstanceNorm2d(ngf * 2, affine=True), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 3, stride=2, padding=1, output_padding=1, bias=True),
            nn.InstanceNorm2d(ngf, affine=False), nn.ReLU(True),
            nn.ReflectionPad2d(3), nn.Conv2d(ngf, nc, 7, bias=True), nn.Tanh(),
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


# --------------------------------------------------------------------------------------------
# (c) pix2pix U-Net


class UNet(nn.Module):
    """Depth-4 U-Net in the layout of pix2pix's UnetSkipConnectionBlock, unrolled. Activations
    are not inplace, so each skip carries the block's input before its LeakyReLU (pix2pix's
    inplace LeakyReLU makes its skips carry LeakyReLU(x) instead; either is a valid graph)."""

    def __init__(self, ngf=6, nc=3):
        super().__init__()
        c1, c2, c3 = ngf, ngf * 2, ngf * 4
        self.down1 = nn.Conv2d(nc, c1, 4, 2, 1, bias=False)                       # 32 -> 16
        self.down2 = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(c1, c2, 4, 2, 1, bias=False),
                                   nn.BatchNorm2d(c2))                              # 16 -> 8
        self.down3 = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(c2, c3, 4, 2, 1, bias=False),
                                   nn.BatchNorm2d(c3))                              # 8 -> 4
        self.down4 = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(c3, c3, 4, 2, 1, bias=False))  # 4 -> 2
        self.up4 = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(c3, c3, 4, 2, 1, bias=False),
                                 nn.BatchNorm2d(c3), nn.Dropout(0.5))               # 2 -> 4
        self.up3 = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * c3, c2, 4, 2, 1, bias=False),
                                 nn.BatchNorm2d(c2), nn.Dropout(0.5))               # 4 -> 8
        self.up2 = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * c2, c1, 4, 2, 1, bias=False),
                                 nn.BatchNorm2d(c1))                                # 8 -> 16
        self.up1 = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * c1, nc, 4, 2, 1, bias=True),
                                 nn.Tanh())                                         # 16 -> 32

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(d1)
        d3 = self.down3(d2)
        d4 = self.down4(d3)
        u4 = torch.cat([d3, self.up4(d4)], 1)
        u3 = torch.cat([d2, self.up3(u4)], 1)
        u2 = torch.cat([d1, self.up2(u3)], 1)
        return self.up1(u2)


# --------------------------------------------------------------------------------------------
# (d) SNGAN / BigGAN-style class-conditional generator

SN_CLASSIC = torch.nn.utils.spectral_norm
SN_PARAM = torch.nn.utils.parametrizations.spectral_norm


class SNUpBlock(nn.Module):
    def __init__(self, cin, cout, sn_conv1, sn_conv2, sn_sc):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = sn_conv1(nn.Conv2d(cin, cout, 3, 1, 1))
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = sn_conv2(nn.Conv2d(cout, cout, 3, 1, 1))
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.shortcut = sn_sc(nn.Conv2d(cin, cout, 1, 1, 0))

    def forward(self, x):
        h = self.conv1(self.up(F.relu(self.bn1(x))))
        h = self.conv2(F.relu(self.bn2(h)))
        return h + self.shortcut(self.up(x))


class SNGAN(nn.Module):
    def __init__(self, z_dim=16, n_classes=10, emb_dim=8, ch=16, nc=3):
        super().__init__()
        ident = lambda m: m  # noqa: E731
        self.ch = ch
        self.embed = nn.Embedding(n_classes, emb_dim)
        self.linear = SN_CLASSIC(nn.Linear(z_dim + emb_dim, ch * 4 * 4))
        self.block1 = SNUpBlock(ch, ch, SN_CLASSIC, ident, SN_PARAM)         # 4 -> 8
        self.block2 = SNUpBlock(ch, ch // 2, SN_PARAM, ident, SN_CLASSIC)    # 8 -> 16
        self.bn = nn.BatchNorm2d(ch // 2)
        self.conv_out = SN_PARAM(nn.Conv2d(ch // 2, nc, 3, 1, 1))

    def forward(self, z, y):
        h = torch.cat([z, self.embed(y)], dim=1)
        h = self.linear(h).view(-1, self.ch, 4, 4)
        h = self.block2(self.block1(h))
        h = self.conv_out(F.relu(self.bn(h)))
        return torch.tanh(h)


# --------------------------------------------------------------------------------------------
# (e) ProGAN / StyleGAN-style generator


class PixelNorm(nn.Module):
    def forward(self, x):
        return x / torch.sqrt(torch.mean(x * x, dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Equalized learning rate: weight ~ N(0, 1) stored, scaled by sqrt(2 / fan_in) at run time."""

    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin))
        self.bias = nn.Parameter(0.1 * torch.randn(cout))
        self.scale = (2.0 / cin) ** 0.5

    def forward(self, x):
        return F.linear(x, self.weight * self.scale, self.bias)


class EqualConv2d(nn.Module):
    def __init__(self, cin, cout, k, padding):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(0.1 * torch.randn(cout))
        self.scale = (2.0 / (cin * k * k)) ** 0.5
        self.padding = padding

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class BilinearUp(nn.Module):
    def forward(self, x):
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class ProGAN(nn.Module):
    def __init__(self, z_dim=16, ch=16, nc=3):
        super().__init__()
        self.ch = ch
        self.norm_in = PixelNorm()
        self.mapping = nn.Sequential(
            EqualLinear(z_dim, z_dim), nn.LeakyReLU(0.2),
            EqualLinear(z_dim, z_dim), nn.LeakyReLU(0.2),
            EqualLinear(z_dim, z_dim), nn.LeakyReLU(0.2),
        )
        self.to_const = EqualLinear(z_dim, ch * 4 * 4)
        self.body = nn.Sequential(
            EqualConv2d(ch, ch, 3, 1), nn.LeakyReLU(0.2), PixelNorm(),        # 4x4
            BilinearUp(),                                                     # 8x8
            EqualConv2d(ch, ch // 2, 3, 1), nn.LeakyReLU(0.2), PixelNorm(),
            BilinearUp(),                                                     # 16x16
        )
        self.to_rgb = EqualConv2d(ch // 2, nc, 1, 0)

    def forward(self, z):
        w = self.mapping(self.norm_in(z))
        h = self.to_const(w).view(-1, self.ch, 4, 4)
        return self.to_rgb(self.body(h))


# --------------------------------------------------------------------------------------------
# Bad files: the modules behind tests/fixtures/onnx/bad/ (exported by write_bad)


class CumSumGen(nn.Module):
    """A tiny generator ending in CumSum, an op no GAN importer of webgan's scope maps."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3 * 4 * 4)
        self.up = nn.ConvTranspose2d(3, 3, 4, 2, 1)

    def forward(self, z):
        h = self.up(self.fc(z).view(-1, 3, 4, 4))
        return torch.tanh(torch.cumsum(h, dim=3))


class TinyGen(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4 * 4 * 4)
        self.up = nn.ConvTranspose2d(4, 3, 4, 2, 1)

    def forward(self, z):
        return torch.tanh(self.up(torch.relu(self.fc(z)).view(-1, 4, 4, 4)))

