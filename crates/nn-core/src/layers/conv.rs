//! The 2-D convolution layer (guide §12): `Z = W ⋆ X + b`, `A = f(Z)`, lowered to one
//! matrix product per example through im2col.

use nn_math::{Matrix, MatrixView, MatrixViewMut, Op, Real, gemm, nalgebra::DMatrixView};
use serde_json::json;

use super::activation::LayerActivation;
use super::describe::activation_settings;
use super::image::ImageShape;
use super::window::Window;
use crate::{CoreError, Layer, ParamKind, ParamSpec, Saved};

/// What a convolution computes, before it is placed after an input: `out_channels`
/// filters of `kernel` rows × columns, moved by `stride`, over the input padded by
/// `padding` zeros (PyTorch's `nn.Conv2d(in, out, kernel, stride, padding)`).
///
/// ```
/// use nn_core::Conv;
///
/// let c = Conv::new(16, 5).padding(2);
/// assert_eq!((c.kernel, c.stride, c.padding), ((5, 5), (1, 1), (2, 2)));
/// let strided = Conv::rect(8, 3, 2).stride(2);
/// assert_eq!((strided.kernel, strided.stride), ((3, 2), (2, 2)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv {
    /// Output channels (filters) `C_out`.
    pub out_channels: usize,
    /// Kernel rows and columns `(kh, kw)`.
    pub kernel: (usize, usize),
    /// Steps `(sh, sw)`; default `(1, 1)`.
    pub stride: (usize, usize),
    /// Zeros `(ph, pw)` on each side; default none.
    pub padding: (usize, usize),
}

impl Conv {
    /// `out_channels` filters of `kernel × kernel`, stride 1, no padding.
    pub fn new(out_channels: usize, kernel: usize) -> Self {
        Self::rect(out_channels, kernel, kernel)
    }

    /// `out_channels` filters of `kh × kw`, stride 1, no padding.
    pub fn rect(out_channels: usize, kh: usize, kw: usize) -> Self {
        Self {
            out_channels,
            kernel: (kh, kw),
            stride: (1, 1),
            padding: (0, 0),
        }
    }

    /// The same, moved by `stride` rows and columns.
    pub fn stride(self, stride: usize) -> Self {
        Self {
            stride: (stride, stride),
            ..self
        }
    }

    /// The same over the input padded by `padding` zeros on every side.
    pub fn padding(self, padding: usize) -> Self {
        Self {
            padding: (padding, padding),
            ..self
        }
    }
}

/// A 2-D convolution layer with an activation: for each example,
/// `Z[o, y, x] = b_o + Σ_{c,i,j} W[o, c, i, j]·X[c, y·sh + i − ph, x·sw + j − pw]` and
/// `A = f(Z)`, with one function for the layer or one per output channel (guide §12, eq. 4.2.1).
///
/// The weights are stored as PyTorch stores `nn.Conv2d.weight`: `C_out × C_in × kh × kw`
/// row-major, i.e. a `C_out × K` matrix (`K = C_in·kh·kw`) whose row `o` is filter `o`;
/// here that matrix is kept column-major, the layout every tensor of the parameter visitor
/// has, and model files write it back row-major with the 4-D shape.
///
/// ```
/// use nn_core::{Conv, Conv2d, ImageShape, Init, Layer};
/// use nn_activations::Relu;
/// use rand::SeedableRng;
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let input = ImageShape::new(1, 28, 28)?;
/// let conv = Conv2d::<f32>::init(input, Conv::new(16, 5).padding(2), Relu, Init::Auto, &mut rng)?;
/// assert_eq!(conv.output(), ImageShape::new(16, 28, 28)?);
/// assert_eq!((conv.n_inputs(), conv.n_outputs()), (784, 16 * 784));
/// # Ok::<(), nn_core::CoreError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d<T: Real> {
    window: Window,
    output: ImageShape,
    /// `C_out × K`, column-major.
    weight: Vec<T>,
    bias: Vec<T>,
    activation: LayerActivation<T>,
}

impl<T: Real> Conv2d<T> {
    /// A convolution of `spec` over images of shape `input`, with the given weights
    /// (`C_out × K` with `K = C_in·kh·kw`, column `(c·kh + i)·kw + j` for kernel offset
    /// `(i, j)` of input channel `c`), biases (`C_out`) and activation (one function, or a
    /// list with one per output channel).
    ///
    /// # Errors
    /// [`CoreError::Architecture`] naming the sizes if the window does not fit the padded
    /// input, the stride is 0, there are no output channels, the weights or biases have
    /// another shape, or a per-channel list another length.
    pub fn new(
        input: ImageShape,
        spec: Conv,
        weight: Matrix<T>,
        bias: Vec<T>,
        activation: impl Into<LayerActivation<T>>,
    ) -> Result<Self, CoreError> {
        let window = Window::new("conv2d", input, spec.kernel, spec.stride, spec.padding)?;
        let c_out = spec.out_channels;
        let output = ImageShape::new(c_out, window.out.0, window.out.1).map_err(|_| {
            CoreError::Architecture(format!(
                "conv2d: {c_out} output channels of {}×{} is no output",
                window.out.0, window.out.1
            ))
        })?;
        let k = input.channels * window.area();
        if weight.shape() != (c_out, k) {
            return Err(CoreError::Architecture(format!(
                "conv2d: weights are {}×{}, the layer needs {c_out}×{k} ({c_out} filters of \
                 {}×{}×{})",
                weight.nrows(),
                weight.ncols(),
                input.channels,
                spec.kernel.0,
                spec.kernel.1
            )));
        }
        if bias.len() != c_out {
            return Err(CoreError::Architecture(format!(
                "conv2d: {} biases for {c_out} output channels",
                bias.len()
            )));
        }
        let activation = activation.into();
        if let Some(len) = activation.per_neuron_len()
            && len != c_out
        {
            return Err(CoreError::Architecture(format!(
                "conv2d: {len} per-channel activations for {c_out} output channels"
            )));
        }
        Ok(Self {
            window,
            output,
            weight: weight.as_slice().to_vec(),
            bias,
            activation,
        })
    }

    /// A convolution with weights and biases drawn by `init` from `rng`, with the fan-in
    /// `K = C_in·kh·kw` of one output value (He for ReLU-family functions under
    /// [`crate::Init::Auto`], as for dense layers).
    ///
    /// # Errors
    /// As [`Conv2d::new`], and an invalid [`crate::Init`].
    pub fn init<R: rand::Rng + ?Sized>(
        input: ImageShape,
        spec: Conv,
        activation: impl Into<LayerActivation<T>>,
        init: crate::Init,
        rng: &mut R,
    ) -> Result<Self, CoreError> {
        let activation = activation.into();
        // Check the geometry before drawing (and allocating) anything.
        Window::new("conv2d", input, spec.kernel, spec.stride, spec.padding)?;
        init.validate()?;
        let k = input.channels * spec.kernel.0 * spec.kernel.1;
        let (w, b) = init
            .draw(k, spec.out_channels, &activation, rng)
            .map_err(|e| CoreError::Architecture(format!("conv2d: {e}")))?;
        Self::new(input, spec, w, b.as_slice().to_vec(), activation)
    }

    /// The input image shape.
    pub fn input(&self) -> ImageShape {
        self.window.input
    }

    /// The output image shape `C_out × Ho × Wo`.
    pub fn output(&self) -> ImageShape {
        self.output
    }

    /// The convolution's kernel, stride, padding and channels.
    pub fn spec(&self) -> Conv {
        Conv {
            out_channels: self.output.channels,
            kernel: self.window.kernel,
            stride: self.window.stride,
            padding: self.window.padding,
        }
    }

    /// The weights as the `C_out × K` matrix (row `o` is filter `o`).
    pub fn weight(&self) -> MatrixView<'_, T> {
        MatrixView::from_slice(&self.weight, self.output.channels, self.k())
    }

    /// The biases, one per output channel.
    pub fn bias(&self) -> &[T] {
        &self.bias
    }

    /// The activation: one function, or one per output channel.
    pub fn activation(&self) -> &LayerActivation<T> {
        &self.activation
    }

    /// `K = C_in·kh·kw`, the values under one window position.
    fn k(&self) -> usize {
        self.window.input.channels * self.window.area()
    }

    fn specs(&self) -> [ParamSpec; 2] {
        let (c_out, c_in) = (self.output.channels, self.window.input.channels);
        let (kh, kw) = self.window.kernel;
        [
            ParamSpec::kernel("weight", [c_out, c_in, kh, kw], ParamKind::Weight),
            ParamSpec::vector("bias", c_out, ParamKind::Bias),
        ]
    }

    /// `f` (or `f'` with `derivative`) applied channel by channel to one example's
    /// `P × C_out` block `z`, written to (or multiplied into) `out`.
    fn activate(&self, z: &[T], out: &mut [T], derivative: bool) -> Result<(), CoreError> {
        let p = self.window.positions();
        let apply = |f: &super::activation::NeuronActivation<T>, z: &[T], out: &mut [T]| {
            use nn_activations::Activation;
            match derivative {
                false => f.f_slice(z, out),
                true => f.mul_df_slice(z, out),
            }
        };
        match &self.activation {
            LayerActivation::Shared(f) => apply(f, z, out)?,
            LayerActivation::PerNeuron(fs) => {
                for ((f, z), out) in fs
                    .iter()
                    .zip(z.chunks_exact(p))
                    .zip(out.chunks_exact_mut(p))
                {
                    apply(f, z, out)?;
                }
            }
        }
        Ok(())
    }
}

/// Scratch of one pass: `Z` (`n_out × B`), then one example's `X̂` (`P × K`).
impl<T: Real> Layer<T> for Conv2d<T> {
    fn kind(&self) -> &str {
        "conv2d"
    }

    fn n_inputs(&self) -> usize {
        self.window.input.len()
    }

    fn n_outputs(&self) -> usize {
        self.output.len()
    }

    fn scratch_len(&self, batch: usize) -> usize {
        self.output.len() * batch + self.window.im2col_len()
    }

    /// Guide eq. 4.2.4, per example: `X̂ = im2col(x)`, `Z = X̂·Wᵀ + 1·bᵀ` (a `P × C_out`
    /// matrix, which is the example's `C_out × Ho × Wo` output plane by plane), `A = f(Z)`.
    fn forward(
        &self,
        input: MatrixView<'_, T>,
        mut output: MatrixViewMut<'_, T>,
        scratch: &mut [T],
    ) -> Result<(), CoreError> {
        let (n, p, k, c_out) = (
            self.n_outputs(),
            self.window.positions(),
            self.k(),
            self.output.channels,
        );
        let batch = input.ncols();
        let (z_all, buf) = scratch.split_at_mut(n * batch);
        let buf = &mut buf[..self.window.im2col_len()];
        let w = self.weight();
        for j in 0..batch {
            self.window.im2col(input.column(j).as_slice(), buf);
            let cols = &buf[..p * k];
            let z = &mut z_all[j * n..(j + 1) * n];
            for (plane, b) in z.chunks_exact_mut(p).zip(&self.bias) {
                plane.fill(*b);
            }
            let x_hat = DMatrixView::from_slice(cols, p, k);
            let mut zm = MatrixViewMut::from_slice(z, p, c_out);
            gemm(
                T::one(),
                &x_hat,
                Op::NoTrans,
                &w,
                Op::Trans,
                T::one(),
                &mut zm,
            )?;
            self.activate(z, output.column_mut(j).as_mut_slice(), false)?;
        }
        Ok(())
    }

    /// Guide eqs. 4.2.5–4.2.7, per example: `D = Δ ⊙ f'(Z)`, `∇b += scale·Dᵀ·1`,
    /// `∇W += scale·Dᵀ·X̂` (`X̂` computed again), and `∂C/∂x = col2im(D·W)`.
    fn backward(
        &self,
        saved: Saved<'_, T>,
        mut d_output: MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
        mut d_input: Option<MatrixViewMut<'_, T>>,
    ) -> Result<(), CoreError> {
        let (n, p, k, c_out) = (
            self.n_outputs(),
            self.window.positions(),
            self.k(),
            self.output.channels,
        );
        let batch = d_output.ncols();
        let [gw, gb, ..] = grads else {
            return Err(CoreError::GradientMismatch {
                op: "conv2d backward",
                detail: "the gradient lacks the layer's weight or bias".into(),
            });
        };
        let (z_all, buf) = saved.scratch.split_at_mut(n * batch);
        let buf = &mut buf[..self.window.im2col_len()];
        let w = self.weight();
        for j in 0..batch {
            let mut d_col = d_output.column_mut(j);
            let d = d_col.as_mut_slice();
            self.activate(&z_all[j * n..(j + 1) * n], d, true)?;
            for (g, plane) in gb.as_mut_slice().iter_mut().zip(d.chunks_exact(p)) {
                *g += scale * plane.iter().fold(T::zero(), |s, &x| s + x);
            }
            self.window.im2col(saved.input.column(j).as_slice(), buf);
            let cols = &mut buf[..p * k];
            let dm = DMatrixView::from_slice(d, p, c_out);
            let x_hat = DMatrixView::from_slice(cols, p, k);
            gemm(scale, &dm, Op::Trans, &x_hat, Op::NoTrans, T::one(), gw)?;
            if let Some(d_in) = d_input.as_mut() {
                let mut dx_hat = MatrixViewMut::from_slice(cols, p, k);
                gemm(
                    T::one(),
                    &dm,
                    Op::NoTrans,
                    &w,
                    Op::NoTrans,
                    T::zero(),
                    &mut dx_hat,
                )?;
                self.window
                    .col2im(&buf[..p * k], d_in.column_mut(j).as_mut_slice());
            }
        }
        Ok(())
    }

    /// `weight` (`C_out × C_in × kh × kw`), then `bias`.
    fn visit_params(&self, f: &mut dyn FnMut(ParamSpec, &[T])) {
        let [w, b] = self.specs();
        f(w, &self.weight);
        f(b, &self.bias);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [T])) {
        let [w, b] = self.specs();
        f(w, &mut self.weight);
        f(b, &mut self.bias);
    }

    /// The input shape, the convolution and the activation.
    fn settings(&self) -> Result<serde_json::Value, CoreError> {
        let mut s = activation_settings(&self.activation)?;
        let i = self.window.input;
        let spec = self.spec();
        s["input"] = json!([i.channels, i.height, i.width]);
        s["out_channels"] = json!([spec.out_channels]);
        s["kernel"] = json!([spec.kernel.0, spec.kernel.1]);
        s["stride"] = json!([spec.stride.0, spec.stride.1]);
        s["padding"] = json!([spec.padding.0, spec.padding.1]);
        Ok(s)
    }
}
