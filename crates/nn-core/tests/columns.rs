//! `evaluate_columns` gathers what `evaluate_with` is given: the same outputs, masks and
//! gradients, on any number of threads.

use nn_core::{CoreError, Dropout, HalfSquaredError, SplitRule, Workspace};
use nn_math::Matrix;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::common::{inputs, network};

proptest! {
    #[test]
    fn gathering_columns_equals_evaluating_the_gathered_matrix(
        (net, data) in network().prop_flat_map(|net| {
            let n = net.n_inputs();
            (Just(net), inputs(n, 6))
        }),
        picks in prop::collection::vec(0usize..6, 1..10),
        threads in 1usize..=3,
        mask in any::<u64>(),
        seed in any::<u64>(),
    ) {
        let gathered = Matrix::from_columns(&picks.iter().map(|&c| data.column(c)).collect::<Vec<_>>());
        let dropout = Dropout::new(vec![0.3; net.n_layers()]).unwrap();
        let mut plain = net.workspace();
        let mut split = Workspace::with_threads(threads).unwrap();
        split.set_split_rule(SplitRule::ByInputs(mask));

        let a = net.evaluate_with(&gathered, &mut plain).unwrap().clone_owned();
        let b = net.evaluate_columns(&data, &picks, &mut split).unwrap().clone_owned();
        prop_assert!((&a - &b).amax() <= 1e-12 * (1.0 + a.amax()));

        // With dropout: the same masks for the same seed, so the same gradients.
        let target = Matrix::from_fn(net.n_outputs(), picks.len(), |i, j| (i + j) as f64 / 7.0);
        let (mut g1, mut g2) = (net.gradient(), net.gradient());
        net.evaluate_with_dropout(&gathered, &mut plain, &dropout, &mut StdRng::seed_from_u64(seed)).unwrap();
        net.adjust_gradient(&mut plain, &target, &HalfSquaredError, &mut g1).unwrap();
        net.evaluate_columns_with_dropout(&data, &picks, &mut split, &dropout, &mut StdRng::seed_from_u64(seed)).unwrap();
        net.adjust_gradient(&mut split, &target, &HalfSquaredError, &mut g2).unwrap();
        for (x, y) in g1.layers().iter().zip(g2.layers()) {
            for (a, b) in x.tensors().iter().zip(y.tensors()) {
                prop_assert!((a - b).amax() <= 1e-12 * (1.0 + a.amax()));
            }
        }
    }
}

#[test]
fn bad_columns_are_errors() {
    let net = nn_core::Network::<f64>::builder(2)
        .layer(1, nn_activations::Identity)
        .build(&mut StdRng::seed_from_u64(1))
        .unwrap();
    let mut ws = net.workspace();
    let data = Matrix::zeros(2, 3);
    let err = net.evaluate_columns(&data, &[0, 3], &mut ws).unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::ColumnIndex {
                index: 3,
                columns: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "evaluate_columns: column 3 is out of range for a data set of 3 columns"
    );
    assert!(matches!(
        net.evaluate_columns(&data, &[], &mut ws),
        Err(CoreError::Shape { .. })
    ));
    assert!(matches!(
        net.evaluate_columns(&Matrix::zeros(3, 3), &[0], &mut ws),
        Err(CoreError::Shape { .. })
    ));
}
