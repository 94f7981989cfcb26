//! The gradient-check API (`nn_core::gradcheck`) over every layer kind and over networks
//! that mix them: dense layers of random shapes and activations, a user's layer, on 1–3
//! threads, with and without dropout; and a wrong layer, which the check must catch.

use nn_activations::Identity;
use nn_core::gradcheck::{NetworkCheck, check_layer, check_network};
use nn_core::{
    CoreError, Dense, Dropout, HalfSquaredError, Layer, Network, ParamKind, ParamSpec, Saved,
    SoftmaxCrossEntropy,
};
use nn_math::{Matrix, MatrixView, MatrixViewMut, Vector};
use proptest::prelude::*;

use crate::common::{distributions, inputs, layer_activation, network, real_targets};

/// What a correct gradient stays under: the central difference's error with h = 1e-6 is
/// about 1e-10 at these scales (see `nn_core::gradcheck`); a wrong one is near 1.
const TOLERANCE: f64 = 1e-6;

/// A user's layer: a learnable shift per feature, `a = x + β`, computed right, or (with
/// `wrong`) with its `∂C/∂β` doubled, which a gradient check must catch.
#[derive(Clone, Debug)]
pub struct Shift {
    pub beta: Vec<f64>,
    pub wrong: bool,
}

impl Layer<f64> for Shift {
    fn kind(&self) -> &str {
        "shift"
    }
    fn n_inputs(&self) -> usize {
        self.beta.len()
    }
    fn n_outputs(&self) -> usize {
        self.beta.len()
    }
    fn forward(
        &self,
        x: MatrixView<'_, f64>,
        mut a: MatrixViewMut<'_, f64>,
        _: &mut [f64],
    ) -> Result<(), CoreError> {
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                a[(i, j)] = x[(i, j)] + self.beta[i];
            }
        }
        Ok(())
    }
    fn backward(
        &self,
        _: Saved<'_, f64>,
        d_out: MatrixViewMut<'_, f64>,
        scale: f64,
        grads: &mut [Matrix<f64>],
        d_in: Option<MatrixViewMut<'_, f64>>,
    ) -> Result<(), CoreError> {
        let factor = if self.wrong { 2.0 } else { 1.0 };
        for j in 0..d_out.ncols() {
            for i in 0..d_out.nrows() {
                grads[0][(i, 0)] += factor * scale * d_out[(i, j)];
            }
        }
        if let Some(mut d_in) = d_in {
            d_in.copy_from(&d_out);
        }
        Ok(())
    }
    fn visit_params(&self, f: &mut dyn FnMut(ParamSpec, &[f64])) {
        f(
            ParamSpec::vector("beta", self.beta.len(), ParamKind::Bias),
            &self.beta,
        );
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [f64])) {
        f(
            ParamSpec::vector("beta", self.beta.len(), ParamKind::Bias),
            &mut self.beta,
        );
    }
}

/// A dense layer of random shape and (smooth) activations, weights in [−1, 1).
fn dense() -> impl Strategy<Value = Dense<f64>> {
    (1usize..=6, 1usize..=6)
        .prop_flat_map(|(n, m)| {
            (
                prop::collection::vec(-1.0..1.0_f64, n * m),
                prop::collection::vec(-1.0..1.0_f64, n),
                layer_activation(n),
                Just((n, m)),
            )
        })
        .prop_map(|(w, b, act, (n, m))| {
            Dense::new(Matrix::from_vec(n, m, w), Vector::from_vec(b), act).expect("valid layer")
        })
}

/// `net` with a shift layer (β in [−0.5, 0.5)) inserted after each layer at the chosen
/// positions: a network of mixed kinds, run by the reference procedures.
fn with_shifts(net: &Network<f64>, after: &[bool], seed: u64) -> Network<f64> {
    let mut layers: Vec<Box<dyn Layer<f64>>> = Vec::new();
    for (k, l) in net.dense_layers().expect("dense").iter().enumerate() {
        layers.push(Box::new(l.clone()));
        if after.get(k).copied().unwrap_or(false) && k + 1 < net.n_layers() {
            let n = l.n_outputs();
            let beta = (0..n)
                .map(|i| ((seed as f64) + 3.0 * i as f64).sin() / 2.0)
                .collect();
            layers.push(Box::new(Shift { beta, wrong: false }));
        }
    }
    Network::from_any_layers(net.n_inputs(), layers).expect("sizes chain")
}

/// A random network with a batch of 1–5 inputs and targets drawn by `targets`.
fn batch<S: Strategy<Value = Matrix<f64>>>(
    targets: fn(usize, usize) -> S,
) -> impl Strategy<Value = (Network<f64>, Matrix<f64>, Matrix<f64>)> {
    (network(), 1usize..6).prop_flat_map(move |(net, b)| {
        let (n0, n_out) = (net.n_inputs(), net.n_outputs());
        (Just(net), inputs(n0, b), targets(n_out, b))
    })
}

proptest! {
    #[test]
    fn a_dense_layer_passes_the_check(layer in dense(), b in 1usize..5, seed in any::<u64>()) {
        let x = Matrix::from_fn(layer.n_inputs(), b, |i, j| ((seed % 97) as f64 + (i * b + j) as f64).sin() * 2.0);
        let report = check_layer(&layer, &x, 1e-6).unwrap();
        prop_assert!(report.max_error < TOLERANCE, "{report}");
        prop_assert_eq!(report.checked, layer.n_outputs() * (layer.n_inputs() + 1) + x.len());
    }

    #[test]
    fn networks_of_mixed_layers_pass_on_any_thread_count(
        (net, x, y) in batch(real_targets),
        shifts in prop::collection::vec(any::<bool>(), 4),
        threads in 1usize..=3,
        rate in prop::option::of(0.0..0.5_f64),
        seed in any::<u64>(),
    ) {
        let mixed = with_shifts(&net, &shifts, seed);
        for candidate in [&net, &mixed] {
            let dropout = rate.map(|r| (Dropout::new(vec![r; candidate.n_layers()]).unwrap(), seed));
            let options = NetworkCheck { threads, dropout, ..NetworkCheck::default() };
            let report = check_network(candidate, &x, &y, &HalfSquaredError, &options).unwrap();
            prop_assert!(report.max_error < TOLERANCE, "{report}");
            prop_assert_eq!(report.checked, candidate.n_params());
        }
    }

    #[test]
    fn softmax_cross_entropy_through_a_user_layer_passes((net, x, y) in batch(distributions), seed in any::<u64>()) {
        let mut layers: Vec<Box<dyn Layer<f64>>> = net.dense_layers().unwrap().iter().map(|l| Box::new(l.clone()) as Box<dyn Layer<f64>>).collect();
        let n = net.n_outputs();
        layers.push(Box::new(Shift { beta: (0..n).map(|i| (i as f64 + seed as f64).cos()).collect(), wrong: false }));
        let mixed = Network::from_any_layers(net.n_inputs(), layers).unwrap();
        let report = check_network(&mixed, &x, &y, &SoftmaxCrossEntropy, &NetworkCheck::default()).unwrap();
        prop_assert!(report.max_error < TOLERANCE, "{report}");
    }
}

#[test]
fn a_wrong_gradient_fails_the_check_and_names_the_tensor() {
    let wrong = Shift {
        beta: vec![0.1, -0.2, 0.3],
        wrong: true,
    };
    let x = Matrix::from_fn(3, 2, |i, j| (i + j) as f64);
    let report = check_layer(&wrong, &x, 1e-6).unwrap();
    assert!(report.max_error > 0.1, "{report}");
    assert!(report.worst.starts_with("beta["), "{report}");

    let dense = Dense::new(Matrix::from_element(3, 2, 0.5), Vector::zeros(3), Identity).unwrap();
    let layers: Vec<Box<dyn Layer<f64>>> = vec![Box::new(dense), Box::new(wrong)];
    let net = Network::from_any_layers(2, layers).unwrap();
    let y = Matrix::from_element(3, 2, 1.0);
    let x = Matrix::from_fn(2, 2, |i, j| (i + 2 * j) as f64 / 3.0);
    let report = check_network(&net, &x, &y, &HalfSquaredError, &NetworkCheck::default()).unwrap();
    assert!(report.max_error > 0.1, "{report}");
    assert!(report.worst.starts_with("layers.1.beta["), "{report}");
    assert!(report.to_string().contains("layers.1.beta["));
}

#[test]
fn bad_checks_are_errors() {
    let layer = Shift {
        beta: vec![0.0; 2],
        wrong: false,
    };
    assert!(check_layer(&layer, &Matrix::zeros(3, 1), 1e-6).is_err());
    assert!(check_layer(&layer, &Matrix::zeros(2, 0), 1e-6).is_err());
    assert!(check_layer(&layer, &Matrix::zeros(2, 1), 0.0).is_err());
    assert!(check_layer(&layer, &Matrix::zeros(2, 1), f64::NAN).is_err());
}
