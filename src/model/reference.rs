//! Naive f64 forward passes of the convolutional nets, written straight from method §2 with plain
//! loops over an explicit parameter cursor (for tests: the engine in `cnn` must agree with them).

use super::conv::same_padding;

/// An image `h × w × c` in HWC order, in f64.
#[derive(Clone, Debug)]
pub struct Img {
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub v: Vec<f64>,
}

impl Img {
    pub fn new(shape: [usize; 3], x: &[f32]) -> Self {
        Img {
            h: shape[0],
            w: shape[1],
            c: shape[2],
            v: x.iter().map(|&a| a as f64).collect(),
        }
    }

    fn at(&self, y: usize, x: usize, ch: usize) -> f64 {
        self.v[(y * self.w + x) * self.c + ch]
    }
}

/// Reads parameters in layout order.
pub struct Cursor<'a> {
    pub w: &'a [f32],
    pub at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Vec<f64> {
        let out = self.w[self.at..self.at + n]
            .iter()
            .map(|&a| a as f64)
            .collect();
        self.at += n;
        out
    }
}

pub fn phi(v: f64) -> f64 {
    2f64.sqrt() * v.max(0.0)
}

/// Convolution, weights `c_out × (ky, kx, c_in)`, or depthwise (`w` is `(ky, kx, c)`).
pub fn conv(x: &Img, w: &[f64], c_out: usize, k: usize, s: usize, depthwise: bool) -> Img {
    let (oh, top) = same_padding(x.h, k, s);
    let (ow, left) = same_padding(x.w, k, s);
    let mut v = vec![0.0; oh * ow * c_out];
    for oy in 0..oh {
        for ox in 0..ow {
            for co in 0..c_out {
                let mut acc = 0.0;
                for ky in 0..k {
                    for kx in 0..k {
                        let iy = (oy * s + ky) as isize - top as isize;
                        let ix = (ox * s + kx) as isize - left as isize;
                        if iy < 0 || ix < 0 || iy >= x.h as isize || ix >= x.w as isize {
                            continue;
                        }
                        let (iy, ix) = (iy as usize, ix as usize);
                        if depthwise {
                            acc += w[(ky * k + kx) * x.c + co] * x.at(iy, ix, co);
                        } else {
                            for ci in 0..x.c {
                                acc += w[co * k * k * x.c + (ky * k + kx) * x.c + ci]
                                    * x.at(iy, ix, ci);
                            }
                        }
                    }
                }
                v[(oy * ow + ox) * c_out + co] = acc;
            }
        }
    }
    Img {
        h: oh,
        w: ow,
        c: c_out,
        v,
    }
}

pub fn maxpool(x: &Img) -> Img {
    let (oh, ow) = (x.h.div_ceil(2), x.w.div_ceil(2));
    let mut v = vec![f64::NEG_INFINITY; oh * ow * x.c];
    for y in 0..x.h {
        for xx in 0..x.w {
            for ch in 0..x.c {
                let o = &mut v[((y / 2) * ow + xx / 2) * x.c + ch];
                *o = o.max(x.at(y, xx, ch));
            }
        }
    }
    Img {
        h: oh,
        w: ow,
        c: x.c,
        v,
    }
}

pub fn map(mut x: Img, f: impl Fn(f64) -> f64) -> Img {
    x.v.iter_mut().for_each(|a| *a = f(*a));
    x
}

/// `simple-cnn` of method §2.
pub fn simple_cnn(x: Img, h: usize, w: &[f32]) -> f64 {
    let mut cur = Cursor { w, at: 0 };
    let mut x = x;
    for c_out in [h, 2 * h] {
        let fan_in = 25 * x.c;
        let kernel = cur.take(c_out * fan_in);
        let bias = cur.take(c_out);
        let z = conv(&x, &kernel, c_out, 5, 1, false);
        let c = z.c;
        let scale = ((fan_in + 1) as f64).sqrt();
        let mut z = z;
        for (i, a) in z.v.iter_mut().enumerate() {
            *a = phi((*a + bias[i % c]) / scale);
        }
        x = maxpool(&z);
    }
    let fan_in = x.v.len();
    let dense = cur.take(32 * h * fan_in);
    let bias = cur.take(32 * h);
    let hidden: Vec<f64> = (0..32 * h)
        .map(|j| {
            let z: f64 = (0..fan_in).map(|k| dense[j * fan_in + k] * x.v[k]).sum();
            (z + bias[j]) / ((fan_in + 1) as f64).sqrt()
        })
        .collect();
    let v = cur.take(32 * h);
    assert_eq!(cur.at, w.len(), "every parameter is used");
    hidden.iter().zip(&v).map(|(a, b)| a * b).sum::<f64>() / (32 * h) as f64
}

/// `mnas` of method §2.
pub fn mnas(x: Img, h: usize, w: &[f32]) -> f64 {
    let mut cur = Cursor { w, at: 0 };
    let conv_ = |cur: &mut Cursor, x: &Img, c: usize, k: usize, s: usize| {
        let kernel = cur.take(c * k * k * x.c);
        let scale = k as f64 * (x.c as f64).sqrt();
        map(conv(x, &kernel, c, k, s, false), |a| a / scale)
    };
    let dw = |cur: &mut Cursor, x: &Img, k: usize, s: usize| {
        let kernel = cur.take(k * k * x.c);
        map(conv(x, &kernel, x.c, k, s, true), |a| phi(a / k as f64))
    };
    let mut x = map(conv_(&mut cur, &x, 4 * h, 5, 2), phi);
    x = dw(&mut cur, &x, 5, 1);
    x = map(conv_(&mut cur, &x, 2 * h, 1, 1), phi);
    for (out, k, s) in [(h, 5, 2), (h, 5, 1), (3 * h, 5, 2), (3 * h, 5, 1)] {
        let r = x.clone();
        let mid = 3 * x.c;
        x = map(conv_(&mut cur, &x, mid, 1, 1), phi);
        x = dw(&mut cur, &x, k, s);
        x = conv_(&mut cur, &x, out, 1, 1);
        if (x.h, x.w, x.c) == (r.h, r.w, r.c) {
            for (a, b) in x.v.iter_mut().zip(&r.v) {
                *a = (*a + b) / 2f64.sqrt();
            }
        }
    }
    x = map(conv_(&mut cur, &x, 20 * h, 1, 1), phi);
    let pixels = (x.h * x.w) as f64;
    let mean: Vec<f64> = (0..x.c)
        .map(|ch| x.v.iter().skip(ch).step_by(x.c).sum::<f64>() / pixels)
        .collect();
    let v = cur.take(x.c);
    let b = cur.take(1)[0];
    assert_eq!(cur.at, w.len(), "every parameter is used");
    (mean.iter().zip(&v).map(|(a, b)| a * b).sum::<f64>() + b) / x.c as f64
}

/// A layer list (method §2.5) at width `h`, with method §2.5's scales, written from the spec
/// with no op shared with the engine: `S` of the finite-difference checks, in f64.
pub fn layer_list(
    x: Img,
    layers: &[crate::config::net::LayerSpec],
    h: usize,
    w: &[f32],
    act: crate::model::activation::Activation,
) -> f64 {
    let mut cur = Cursor { w, at: 0 };
    let x = layers_f64(x, layers, h, &mut cur, act, true);
    assert_eq!(cur.at, w.len(), "every parameter is used");
    x.v[0]
}

fn layers_f64(
    mut x: Img,
    layers: &[crate::config::net::LayerSpec],
    h: usize,
    cur: &mut Cursor,
    act: crate::model::activation::Activation,
    top: bool,
) -> Img {
    use crate::config::net::LayerSpec as L;
    let size = |s: crate::config::net::Size| s.at(h).unwrap();
    let conv_layer = |cur: &mut Cursor, x: &Img, c_out: usize, k: usize, s: usize, bias: bool| {
        let kernel = cur.take(c_out * k * k * x.c);
        let b = if bias {
            cur.take(c_out)
        } else {
            vec![0.0; c_out]
        };
        let fan_in = (k * k * x.c) as f64 + if bias { 1.0 } else { 0.0 };
        let mut z = conv(x, &kernel, c_out, k, s, false);
        for (i, a) in z.v.iter_mut().enumerate() {
            *a = (*a + b[i % c_out]) / fan_in.sqrt();
        }
        z
    };
    let n = layers.len();
    for (i, layer) in layers.iter().enumerate() {
        x = match layer {
            L::Conv {
                out,
                k,
                stride,
                bias,
                ..
            } => conv_layer(cur, &x, size(*out), *k, *stride, *bias),
            L::Pointwise { out, bias, .. } => conv_layer(cur, &x, size(*out), 1, 1, *bias),
            L::Depthwise { k, stride, .. } => {
                let kernel = cur.take(k * k * x.c);
                map(conv(&x, &kernel, x.c, *k, *stride, true), |a| a / *k as f64)
            }
            L::MaxPool => maxpool(&x),
            L::GlobalMean => {
                let pixels = (x.h * x.w) as f64;
                let v = (0..x.c)
                    .map(|ch| x.v.iter().skip(ch).step_by(x.c).sum::<f64>() / pixels)
                    .collect();
                Img {
                    h: 1,
                    w: 1,
                    c: x.c,
                    v,
                }
            }
            L::Dense { out, bias, .. } => {
                let (fan_in, fan_out) = (x.v.len(), size(*out));
                let weights = cur.take(fan_out * fan_in);
                let b = if *bias {
                    cur.take(fan_out)
                } else {
                    vec![0.0; fan_out]
                };
                let readout = top && i + 1 == n;
                let scale = if readout {
                    fan_in as f64
                } else {
                    (fan_in as f64 + if *bias { 1.0 } else { 0.0 }).sqrt()
                };
                let v = (0..fan_out)
                    .map(|j| {
                        let z: f64 = (0..fan_in).map(|k| weights[j * fan_in + k] * x.v[k]).sum();
                        (z + b[j]) / scale
                    })
                    .collect();
                Img {
                    h: 1,
                    w: 1,
                    c: fan_out,
                    v,
                }
            }
            L::Phi => map(x, |a| act.reference(a)),
            L::Residual(branch) => {
                let r = x.clone();
                let mut y = layers_f64(x, branch, h, cur, act, false);
                for (a, b) in y.v.iter_mut().zip(&r.v) {
                    *a = (*a + b) / 2f64.sqrt();
                }
                y
            }
            L::InvertedResidual {
                out,
                k,
                stride,
                expand,
                ..
            } => {
                let r = x.clone();
                let mid = expand * x.c;
                let mut y = map(conv_layer(cur, &x, mid, 1, 1, false), |a| act.reference(a));
                let kernel = cur.take(k * k * y.c);
                y = map(conv(&y, &kernel, y.c, *k, *stride, true), |a| {
                    act.reference(a / *k as f64)
                });
                y = conv_layer(cur, &y, size(*out), 1, 1, false);
                if (y.h, y.w, y.c) == (r.h, r.w, r.c) {
                    for (a, b) in y.v.iter_mut().zip(&r.v) {
                        *a = (*a + b) / 2f64.sqrt();
                    }
                }
                y
            }
        };
    }
    x
}
