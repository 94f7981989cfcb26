//! A [`Feed`]'s steps are the plain calls' steps: the same losses and the same weights
//! (and learned activation parameters), bit for bit, on any number of threads, whatever
//! the idle threads managed to gather ahead.

use nn_core::{CoreError, Dropout, Feed, HalfSquaredError, Network, Sharing, SplitRule, Workspace};
use nn_math::Matrix;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::common::{inputs, network};

/// `net` with every parameter of every layer's function learned per neuron, where the
/// function has parameters to learn.
fn learning(net: &Network<f64>) -> Network<f64> {
    let layers = net.dense_layers().expect("dense").iter().map(|l| {
        let names: Vec<&str> = match l.activation().per_neuron_len() {
            None => l.activation().neuron(0).map_or(Vec::new(), |f| {
                nn_activations::Activation::params(f)
                    .iter()
                    .map(|p| p.0)
                    .collect()
            }),
            Some(_) => Vec::new(),
        };
        l.clone()
            .learn(&names, Sharing::PerNeuron)
            .unwrap_or_else(|_| l.clone())
    });
    Network::from_layers(net.n_inputs(), layers.collect()).expect("the same chain")
}

/// Every parameter of `net`, in visiting order.
fn params(net: &Network<f64>) -> Vec<f64> {
    let mut all = Vec::new();
    net.visit_params(|_, p| all.extend_from_slice(p));
    all
}

/// The targets of a batch: a fixed function of the examples' indices.
fn targets(net: &Network<f64>, picks: &[usize]) -> Matrix<f64> {
    Matrix::from_fn(net.n_outputs(), picks.len(), |i, j| {
        ((i + 3 * picks[j]) % 5) as f64 / 4.0
    })
}

/// One step through a feed: descend (or adjust a gradient and apply it); returns the loss.
fn feed_step(
    net: &mut Network<f64>,
    feed: &mut Feed<'_, '_, f64>,
    picks: &[usize],
    next: &[usize],
    dropout: Option<&Dropout>,
    rng: &mut StdRng,
    fused: bool,
) -> f64 {
    match dropout {
        Some(d) => feed.evaluate_with_dropout(net, picks, next, d, rng),
        None => feed.evaluate(net, picks, next),
    }
    .unwrap();
    let y = targets(net, picks);
    if fused {
        feed.descend(net, &y, &HalfSquaredError, 0.1).unwrap()
    } else {
        let mut grad = net.gradient();
        let loss = feed
            .adjust_gradient(net, &y, &HalfSquaredError, &mut grad)
            .unwrap();
        net.apply_gradient(&grad, 0.1).unwrap();
        loss
    }
}

/// The same step through the plain calls.
fn plain_step(
    net: &mut Network<f64>,
    ws: &mut Workspace<f64>,
    data: &Matrix<f64>,
    picks: &[usize],
    dropout: Option<&Dropout>,
    rng: &mut StdRng,
    fused: bool,
) -> f64 {
    match dropout {
        Some(d) => net.evaluate_columns_with_dropout(data, picks, ws, d, rng),
        None => net.evaluate_columns(data, picks, ws),
    }
    .unwrap();
    let y = targets(net, picks);
    if fused {
        net.descend(ws, &y, &HalfSquaredError, 0.1).unwrap()
    } else {
        let mut grad = net.gradient();
        let loss = net
            .adjust_gradient(ws, &y, &HalfSquaredError, &mut grad)
            .unwrap();
        net.apply_gradient(&grad, 0.1).unwrap();
        loss
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn feed_steps_equal_plain_steps_bit_for_bit(
        (net, data) in network().prop_flat_map(|net| {
            let n = net.n_inputs();
            (Just(net), inputs(n, 9))
        }),
        // Half the batches of fewer than four examples, where `descend` also computes
        // the next step's first-layer product.
        batches in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(0usize..9, 1..4),
                prop::collection::vec(0usize..9, 1..12),
            ],
            1..6,
        ),
        // Sometimes a step's columns are not the previous step's `next`.
        announced in prop::collection::vec(any::<bool>(), 6),
        threads in 1usize..=3,
        rule in prop_oneof![Just(SplitRule::Auto), any::<u64>().prop_map(SplitRule::ByInputs)],
        rates in prop::option::of(prop::collection::vec(0.0..0.5f64, 5)),
        fused in any::<bool>(),
        learn in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let net = if learn { learning(&net) } else { net };
        let dropout = rates.map(|r| Dropout::new(r[..net.n_layers()].to_vec()).unwrap());
        let (mut a, mut b) = (net.clone(), net.clone());
        let mut plain = Workspace::with_threads(threads).unwrap();
        let mut ws = Workspace::with_threads(threads).unwrap();
        plain.set_split_rule(rule);
        ws.set_split_rule(rule);
        let (mut rng_a, mut rng_b) = (StdRng::seed_from_u64(seed), StdRng::seed_from_u64(seed));
        let mut feed = ws.feed(&data);
        let other = [8usize, 0];
        for (i, picks) in batches.iter().enumerate() {
            let next = match (batches.get(i + 1), announced[i]) {
                (Some(n), true) => &n[..],
                (Some(_), false) => &other[..],
                (None, _) => &[],
            };
            let la = plain_step(&mut a, &mut plain, &data, picks, dropout.as_ref(), &mut rng_a, fused);
            let lb = feed_step(&mut b, &mut feed, picks, next, dropout.as_ref(), &mut rng_b, fused);
            prop_assert_eq!(la.to_bits(), lb.to_bits());
            prop_assert_eq!(params(&a), params(&b));
        }
    }
}

#[test]
fn bad_columns_of_a_feed_are_errors_and_change_nothing() {
    let mut net = Network::<f64>::builder(2)
        .layer(3, nn_activations::Tanh)
        .layer(1, nn_activations::Identity)
        .build(&mut StdRng::seed_from_u64(1))
        .unwrap();
    let data = Matrix::from_fn(2, 4, |i, j| (i + j) as f64 / 4.0);
    let mut ws = Workspace::with_threads(2).unwrap();
    let mut feed = ws.feed(&data);
    assert_eq!(feed.data().ncols(), 4);
    let out = feed.evaluate(&net, &[0, 1], &[2, 3]).unwrap().clone_owned();
    let err = feed.evaluate(&net, &[0], &[4]).unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::ColumnIndex {
                index: 4,
                columns: 4,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "Feed::evaluate: column 4 is out of range for a data set of 4 columns"
    );
    assert!(matches!(
        feed.evaluate(&net, &[], &[1]),
        Err(CoreError::Shape { .. })
    ));
    // The stored pass is still the first one's.
    assert_eq!(feed.workspace().batch_size(), 2);
    let y = Matrix::from_element(1, 2, 0.5);
    let before = net.clone();
    feed.descend(&mut net, &y, &HalfSquaredError, 0.1).unwrap();
    let mut again = Workspace::with_threads(2).unwrap();
    let plain = before.evaluate_columns(&data, &[0, 1], &mut again).unwrap();
    assert_eq!(plain.clone_owned(), out);
    let mut expected = before.clone();
    expected
        .descend(&mut again, &y, &HalfSquaredError, 0.1)
        .unwrap();
    assert_eq!(net, expected);
    // A wrong target is the plain call's error.
    assert!(matches!(
        feed.descend(&mut net, &Matrix::zeros(2, 2), &HalfSquaredError, 0.1),
        Err(CoreError::Shape { .. })
    ));
}

/// A feed call that fails leaves the stored pass as it was, even when the columns it
/// names were gathered ahead: the following `descend` is the plain one.
#[test]
fn a_failed_feed_step_keeps_the_stored_pass() {
    let net = Network::<f64>::builder(3)
        .layer(4, nn_activations::Tanh)
        .layer(2, nn_activations::Identity)
        .build(&mut StdRng::seed_from_u64(4))
        .unwrap();
    let data = Matrix::from_fn(3, 6, |i, j| ((i * 5 + j * 3) % 7) as f64 / 3.0 - 1.0);
    let y = Matrix::from_fn(2, 2, |i, j| (i + j) as f64 / 2.0);
    let wrong = Dropout::new(vec![0.1]).unwrap(); // one rate for a network that needs two
    let mut plain = net.clone();
    let mut pws = Workspace::with_threads(2).unwrap();
    plain.evaluate_columns(&data, &[0, 1], &mut pws).unwrap();
    plain.descend(&mut pws, &y, &HalfSquaredError, 0.1).unwrap();
    for bad_step in 0..3 {
        let mut fed = net.clone();
        let mut ws = Workspace::with_threads(2).unwrap();
        let mut feed = ws.feed(&data);
        // The waiting thread gathers columns 4 and 5 meanwhile (usually all of them: the
        // unit tests of `feed.rs` force it).
        feed.evaluate(&fed, &[0, 1], &[4, 5]).unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let err = match bad_step {
            0 => feed
                .evaluate_with_dropout(&fed, &[4, 5], &[], &wrong, &mut rng)
                .map(|_| ()),
            1 => feed.evaluate(&fed, &[4, 5], &[9]).map(|_| ()),
            _ => feed.evaluate(&fed, &[4, 9], &[]).map(|_| ()),
        };
        assert!(err.is_err(), "case {bad_step}");
        feed.descend(&mut fed, &y, &HalfSquaredError, 0.1).unwrap();
        assert_eq!(fed, plain, "case {bad_step}");
    }
}
