//! A layer whose neurons share one activation function applies `f` and `f'` once over each
//! run of whole columns a thread owns; a per-neuron list, once per column. Both must
//! compute the same numbers: a network and its copy with every shared function spelled
//! out per neuron take the same steps, bit for bit, on 1 to 3 threads, with and without
//! dropout.

use nn_core::{Dense, Dropout, HalfSquaredError, LayerActivation, Network, SplitRule, Workspace};
use nn_math::Matrix;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::common::{inputs, network};

/// `net` with each shared function repeated for every neuron of its layer.
fn per_neuron(net: &Network<f64>) -> Network<f64> {
    let layers = net
        .dense_layers()
        .unwrap()
        .iter()
        .map(|l| {
            let f = match l.activation() {
                LayerActivation::Shared(f) => {
                    LayerActivation::PerNeuron(vec![f.clone(); l.n_outputs()])
                }
                other => other.clone(),
            };
            Dense::new(l.weight().clone_owned(), l.bias().clone(), f).expect("same shapes")
        })
        .collect();
    Network::from_layers(net.n_inputs(), layers).expect("same architecture")
}

/// Three descent steps of `net` on `x` (targets a fixed function of the position), on
/// `threads` threads with layer `k` split by inputs if bit `k` of `split` is set;
/// returns the losses and the network.
fn three_steps(
    mut net: Network<f64>,
    x: &Matrix<f64>,
    (threads, split): (usize, u64),
    dropout: Option<&Dropout>,
) -> (Vec<u64>, Network<f64>) {
    let mut ws = Workspace::with_threads(threads).expect("threads");
    ws.set_split_rule(SplitRule::ByInputs(split));
    let y = Matrix::from_fn(net.n_outputs(), x.ncols(), |i, j| {
        ((i + 2 * j) % 3) as f64 / 2.0
    });
    let mut rng = StdRng::seed_from_u64(5);
    let losses = (0..3)
        .map(|_| {
            match dropout {
                Some(d) => net.evaluate_with_dropout(x, &mut ws, d, &mut rng),
                None => net.evaluate_with(x, &mut ws),
            }
            .expect("a valid pass");
            let loss = net
                .descend(&mut ws, &y, &HalfSquaredError, 0.1)
                .expect("a valid step");
            loss.to_bits()
        })
        .collect();
    (losses, net)
}

proptest! {
    #[test]
    fn a_shared_function_and_the_same_function_per_neuron_give_the_same_bits(
        (net, x) in network().prop_flat_map(|n| {
            let n_in = n.n_inputs();
            (Just(n), (1usize..=12).prop_flat_map(move |b| inputs(n_in, b)))
        }),
        threads in 1usize..=3,
        split in any::<u64>(),
        rate in prop_oneof![Just(None), (0.05..0.5_f64).prop_map(Some)],
    ) {
        let dropout = rate.map(|r| Dropout::new(vec![r; net.n_layers()]).expect("valid rates"));
        let spelled = per_neuron(&net);
        let (losses, shared) = three_steps(net, &x, (threads, split), dropout.as_ref());
        let (losses_pn, spelled) = three_steps(spelled, &x, (threads, split), dropout.as_ref());
        prop_assert_eq!(losses, losses_pn);
        for (a, b) in shared.dense_layers().unwrap().iter().zip(spelled.dense_layers().unwrap()) {
            prop_assert_eq!(a.weight_slice(), b.weight_slice());
            prop_assert_eq!(a.bias().as_slice(), b.bias().as_slice());
        }
    }
}
