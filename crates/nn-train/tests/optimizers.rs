//! Optimizer trajectories against independent implementations: 12 steps on the fixed
//! quadratic `f(p) = ½·Σᵢ cᵢ·(pᵢ − tᵢ)²` in f64, each within 1e-9 of `torch.optim`
//! (PyTorch 2.15.0, CPU, float64), and the notes' momentum against a plain-Python
//! transcription of Algorithm 21. The numbers below were printed by this script:
//!
//! ```python
//! import torch
//! torch.set_default_dtype(torch.float64)
//! p0 = [1.5, -0.7, 0.3, 2.0]
//! c = torch.tensor([1.0, 3.0, 0.5, 2.0])
//! t = torch.tensor([0.2, 0.1, -1.0, 1.0])
//! def run(make, steps=12):
//!     p = torch.tensor(p0, requires_grad=True)
//!     opt = make([p])
//!     out = []
//!     for _ in range(steps):
//!         opt.zero_grad()
//!         loss = 0.5 * (c * (p - t) ** 2).sum()
//!         loss.backward()
//!         opt.step()
//!         out.append(p.detach().tolist())
//!     return out
//! cases = {
//!     "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
//!     "momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
//!     "nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
//!     "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.99, eps=1e-8),
//!     "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8),
//!     "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
//! }
//! for name, make in cases.items():
//!     traj = run(make)
//!     print(f"const {name.upper()}: [[f64; 4]; 12] = [")
//!     for row in traj:
//!         print("    [" + ", ".join(repr(v) for v in row) + "],")
//!     print("];")
//! # The notes' Algorithm 21 (no torch equivalent), by hand in plain Python:
//! cl, tl = c.tolist(), t.tolist()
//! p = list(p0); prev = [0.0] * 4; gamma = 0.9; lr = 0.1
//! print("const NOTES_MOMENTUM: [[f64; 4]; 12] = [")
//! for _ in range(12):
//!     g = [cl[i] * (p[i] - tl[i]) for i in range(4)]
//!     g = [gamma * prev[i] + (1 - gamma) * g[i] for i in range(4)]   # ApplyGradient's blend
//!     p = [p[i] - lr * g[i] for i in range(4)]
//!     prev = g                                                        # ClearGradient keeps it
//!     print("    [" + ", ".join(repr(v) for v in p) + "],")
//! print("];")
//! print("// torch", torch.__version__)
//! ```

use nn_core::{ParamId, ParamKind};
use nn_train::{
    Adam, AdamW, Momentum, NotesMomentum, Optimizer, ParamState, RmsProp, Sgd, StepContext,
};

const P0: [f64; 4] = [1.5, -0.7, 0.3, 2.0];
const C: [f64; 4] = [1.0, 3.0, 0.5, 2.0];
const T: [f64; 4] = [0.2, 0.1, -1.0, 1.0];

/// Runs `opt` for 12 steps from `P0` and checks every iterate against `expected`.
fn check(opt: &dyn Optimizer<f64>, learning_rate: f64, expected: &[[f64; 4]; 12]) {
    opt.validate().unwrap();
    let mut p = P0;
    let mut state = ParamState::default();
    for (step, want) in expected.iter().enumerate() {
        let grad: Vec<f64> = (0..4).map(|i| C[i] * (p[i] - T[i])).collect();
        let ctx = StepContext {
            id: ParamId {
                layer: 0,
                position: 0,
                name: "weight",
                kind: ParamKind::Weight,
            },
            learning_rate,
            step: step as u64 + 1,
        };
        opt.update(&ctx, &mut p, &grad, &mut state);
        for i in 0..4 {
            assert!(
                (p[i] - want[i]).abs() <= 1e-9,
                "{} step {}: p[{i}] = {}, reference {}",
                opt.name(),
                step + 1,
                p[i],
                want[i]
            );
        }
    }
}

#[test]
fn sgd_matches_torch() {
    check(&Sgd, 0.1, &SGD);
}

#[test]
fn momentum_matches_torch() {
    check(
        &Momentum {
            momentum: 0.9,
            nesterov: false,
        },
        0.1,
        &MOMENTUM,
    );
}

#[test]
fn nesterov_matches_torch() {
    check(
        &Momentum {
            momentum: 0.9,
            nesterov: true,
        },
        0.1,
        &NESTEROV,
    );
}

#[test]
fn rmsprop_matches_torch() {
    check(
        &RmsProp {
            rho: 0.99,
            eps: 1e-8,
        },
        0.01,
        &RMSPROP,
    );
}

#[test]
fn adam_matches_torch() {
    check(
        &Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        0.01,
        &ADAM,
    );
}

#[test]
fn adamw_matches_torch() {
    check(
        &AdamW {
            adam: Adam::default(),
            weight_decay: 0.01,
        },
        0.01,
        &ADAMW,
    );
}

#[test]
fn notes_momentum_matches_algorithm_21() {
    check(&NotesMomentum { gamma: 0.9 }, 0.1, &NOTES_MOMENTUM);
}

#[test]
fn invalid_hyper_parameters_are_rejected() {
    let bad: Vec<(&str, Box<dyn Optimizer<f64>>)> = vec![
        (
            "momentum 1",
            Box::new(Momentum {
                momentum: 1.0,
                nesterov: false,
            }),
        ),
        (
            "momentum −0.1",
            Box::new(Momentum {
                momentum: -0.1,
                nesterov: true,
            }),
        ),
        ("notes γ 1", Box::new(NotesMomentum { gamma: 1.0 })),
        (
            "rmsprop ρ 1",
            Box::new(RmsProp {
                rho: 1.0,
                eps: 1e-8,
            }),
        ),
        ("rmsprop ε 0", Box::new(RmsProp { rho: 0.9, eps: 0.0 })),
        (
            "adam β₁ 1",
            Box::new(Adam {
                beta1: 1.0,
                ..Adam::default()
            }),
        ),
        (
            "adam β₂ NaN",
            Box::new(Adam {
                beta2: f64::NAN,
                ..Adam::default()
            }),
        ),
        (
            "adam ε −1",
            Box::new(Adam {
                eps: -1.0,
                ..Adam::default()
            }),
        ),
        (
            "adamw decay −1",
            Box::new(AdamW {
                weight_decay: -1.0,
                ..AdamW::default()
            }),
        ),
    ];
    for (what, opt) in bad {
        assert!(opt.validate().is_err(), "{what} was accepted");
    }
    let err = Optimizer::<f64>::validate(&Adam {
        beta1: 1.0,
        ..Adam::default()
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Adam: beta1 = 1 is invalid: must be in [0, 1)"
    );
}

// Reference trajectories (each row: the parameters after that step).
const SGD: [[f64; 4]; 12] = [
    [1.3699999999999999, -0.45999999999999996, 0.235, 1.8],
    [1.253, -0.292, 0.17325, 1.6400000000000001],
    [1.1477, -0.17439999999999997, 0.1145875, 1.512],
    [1.05293, -0.09207999999999997, 0.05885812499999999, 1.4096],
    [
        0.967637,
        -0.03445599999999998,
        0.005915218749999988,
        1.32768,
    ],
    [
        0.8908733,
        0.005880800000000018,
        -0.04438054218750002,
        1.262144,
    ],
    [
        0.82178597,
        0.03411656000000002,
        -0.09216151507812502,
        1.2097152,
    ],
    [
        0.759607373,
        0.05388159200000001,
        -0.13755343932421876,
        1.16777216,
    ],
    [
        0.7036466357000001,
        0.06771711440000001,
        -0.18067576735800783,
        1.1342177279999999,
    ],
    [
        0.65328197213,
        0.07740198008000002,
        -0.22164197899010743,
        1.1073741823999999,
    ],
    [
        0.6079537749170001,
        0.08418138605600001,
        -0.26055988004060204,
        1.08589934592,
    ],
    [
        0.5671583974253,
        0.0889269702392,
        -0.29753188603857195,
        1.068719476736,
    ],
];
const MOMENTUM: [[f64; 4]; 12] = [
    [1.3699999999999999, -0.45999999999999996, 0.235, 1.8],
    [1.136, -0.07599999999999996, 0.11474999999999996, 1.46],
    [
        0.8317999999999999,
        0.3224000000000001,
        -0.049212500000000055,
        1.0619999999999998,
    ],
    [
        0.49483999999999984,
        0.61424,
        -0.24431812500000008,
        0.6913999999999998,
    ],
    [
        0.16209199999999982,
        0.7226239999999999,
        -0.4576972812500001,
        0.41957999999999984,
    ],
    [
        -0.13359040000000016,
        0.6333823999999999,
        -0.6768536578125001,
        0.2910259999999999,
    ],
    [
        -0.3663455200000001,
        0.3930502399999999,
        -0.8902517138281251,
        0.31712219999999997,
    ],
    [
        -0.5191905760000001,
        0.0888362239999999,
        -1.0877973785507813,
        0.47718434000000004,
    ],
    [
        -0.5848320688,
        -0.18160725760000007,
        -1.2611986078736328,
        0.7258033980000002,
    ],
    [
        -0.56542620544,
        -0.34052421376,
        -1.4041997838705176,
        1.0043998706000001,
    ],
    [
        -0.47141830787199995,
        -0.351392210176,
        -1.512690853074188,
        1.2542567218200003,
    ],
    [
        -0.3196693692735999,
        -0.22575574389759992,
        -1.584698272703782,
        1.4282765435540001,
    ],
];
const NESTEROV: [[f64; 4]; 12] = [
    [1.253, -0.24399999999999997, 0.17649999999999996, 1.62],
    [
        0.9476299999999999,
        0.14648000000000008,
        0.01208249999999996,
        1.2224000000000002,
    ],
    [
        0.6255172999999998,
        0.3785384000000001,
        -0.17909858750000004,
        0.8916480000000001,
    ],
    [
        0.32205428299999983,
        0.44117367200000007,
        -0.38360348793750004,
        0.67517696,
    ],
    [
        0.0640438109299999,
        0.37828179176000004,
        -0.5892750034146875,
        0.5842824192,
    ],
    [
        -0.1313490525397,
        0.2551753696808,
        -0.7856603989769485,
        0.6019818659839999,
    ],
    [
        -0.2564823666961869,
        0.131065712866664,
        -0.9642868922338342,
        0.6943290944716799,
    ],
    [
        -0.3121921144933226,
        0.043556915213759095,
        -1.1187981993567797,
        0.8219532800884735,
    ],
    [
        -0.3060977987596703,
        0.0053592981283012795,
        -1.2449654569790591,
        0.9494520377148702,
    ],
    [
        -0.2505516231394449,
        0.009687009925972477,
        -1.3405901893971552,
        1.0513607356629018,
    ],
    [
        -0.1605040585731178,
        0.03950736538071359,
        -1.4053198261447695,
        1.1144628510529042,
    ],
    [
        -0.05151512541708107,
        0.07644197970298641,
        -1.4403976742567413,
        1.1370038039231252,
    ],
];
const RMSPROP: [[f64; 4]; 12] = [
    [
        1.4000000076923071,
        -0.6000000041666664,
        0.20000001538461304,
        1.9000000049999999,
    ],
    [
        1.3319881422058475,
        -0.5339622701726087,
        0.13198815351852244,
        1.8329179679700331,
    ],
    [
        1.2777966603871487,
        -0.4824439812484731,
        0.07779667402509369,
        1.779982273243635,
    ],
    [
        1.231761259141821,
        -0.4394866158889537,
        0.031761274469447834,
        1.7353890444382234,
    ],
    [
        1.1912645069182943,
        -0.40235591039984164,
        -0.008735476442555637,
        1.6964657887382077,
    ],
    [
        1.1548465232539333,
        -0.36953189097024086,
        -0.04515345904675122,
        1.6617246502458864,
    ],
    [
        1.1215958485754818,
        -0.34006690212536544,
        -0.07840413284467324,
        1.6302376117201904,
    ],
    [
        1.0908986760319983,
        -0.31332283146900397,
        -0.1091013046427655,
        1.6013799941623572,
    ],
    [
        1.0623184953226203,
        -0.28884548239403374,
        -0.1376814847123874,
        1.5747075842372116,
    ],
    [
        1.0355318304339798,
        -0.26629768680875876,
        -0.1644681490463397,
        1.5498911190602722,
    ],
    [
        1.0102911137659556,
        -0.2454207453022869,
        -0.18970886522983116,
        1.5266784757906406,
    ],
    [
        0.986401891872982,
        -0.22601079220864648,
        -0.21359808669726926,
        1.5048714757018182,
    ],
];
const ADAM: [[f64; 4]; 12] = [
    [
        1.4900000000769231,
        -0.6900000000416666,
        0.29000000015384614,
        1.99000000005,
    ],
    [
        1.4800020874718036,
        -0.6800034765012769,
        0.28000208762591355,
        1.9800027459961473,
    ],
    [
        1.470007670389615,
        -0.6700127988035074,
        0.27000767062115494,
        1.9700100993783998,
    ],
    [
        1.4600181655176774,
        -0.6600303687941612,
        0.26001816582686954,
        1.9600239397230645,
    ],
    [
        1.4500349947904239,
        -0.6500586154242984,
        0.25003499517746874,
        1.9500461602882677,
    ],
    [
        1.44005958216276,
        -0.640099989344016,
        0.24005958262783617,
        1.9400786637830656,
    ],
    [
        1.4300933504169409,
        -0.6301569574468722,
        0.230093350960205,
        1.9301233580932116,
    ],
    [
        1.4201377180270889,
        -0.6202319974057333,
        0.22013771864867498,
        1.9201821520459506,
    ],
    [
        1.4101940961043202,
        -0.6103275922399923,
        0.21019409680433956,
        1.9102569512450849,
    ],
    [
        1.400263885443983,
        -0.6004462249527005,
        0.20026388622252414,
        1.9003496540059872,
    ],
    [
        1.3903484736947624,
        -0.5905903732742186,
        0.19034847455189072,
        1.8904621474182772,
    ],
    [
        1.380449232667423,
        -0.5807625045465786,
        0.18044923360318063,
        1.8805963035615652,
    ],
];
const ADAMW: [[f64; 4]; 12] = [
    [
        1.489850000076923,
        -0.6899300000416666,
        0.28997000015384616,
        1.98980000005,
    ],
    [
        1.4797031350431757,
        -0.6798645093923895,
        0.27994309713717047,
        1.9796038237833793,
    ],
    [
        1.469560834818699,
        -0.6698059146265957,
        0.26992070301165255,
        1.9694133719611226,
    ],
    [
        1.4594245378348567,
        -0.6597566347018871,
        0.259904238029015,
        1.9592305638497212,
    ],
    [
        1.4492956877467387,
        -0.6497191155949235,
        0.24989512737935776,
        1.9490573328815308,
    ],
    [
        1.4391757301542338,
        -0.639695824846506,
        0.23989479794904547,
        1.9388956222870217,
    ],
    [
        1.4290661093571897,
        -0.6296892460571832,
        0.22990467511317353,
        1.9287473807325801,
    ],
    [
        1.4189682651691617,
        -0.6197018733744777,
        0.21992617958682495,
        1.918614557996883,
    ],
    [
        1.4088836298130887,
        -0.6097362060119953,
        0.20996072435816576,
        1.908499100717727,
    ],
    [
        1.3988136249207352,
        -0.5997947428392614,
        0.20000971172494322,
        1.8984029482396094,
    ],
    [
        1.3887596586559692,
        -0.5898799770791715,
        0.1900745304541898,
        1.888328028590366,
    ],
    [
        1.378723122979931,
        -0.5799943911475153,
        0.18015655308293915,
        1.878276254612827,
    ],
];
const NOTES_MOMENTUM: [[f64; 4]; 12] = [
    [1.487, -0.6759999999999999, 0.2935, 1.98],
    [1.4624300000000001, -0.6311199999999999, 0.2811825, 1.9424],
    [
        1.4276927000000001,
        -0.5687943999999999,
        0.2636908375,
        1.8897119999999998,
    ],
    [
        1.3841522030000002,
        -0.49263752799999994,
        0.2416298870625,
        1.8244985599999999,
    ],
    [
        1.3331242336700002,
        -0.40631721736,
        0.2155668822334375,
        1.7493164927999998,
    ],
    [
        1.2758678189363002,
        -0.3134394212632,
        0.18603234347611408,
        1.6666663024639998,
    ],
    [
        1.2135783674866072,
        -0.21744622213818404,
        0.1535210968771424,
        1.5789478051123198,
    ],
    [
        1.1473820775070174,
        -0.12152895626152414,
        0.11849336945368219,
        1.4884222013935615,
    ],
    [
        1.0783315957503163,
        -0.0285575482846845,
        0.08137594792529959,
        1.3971807140188077,
    ],
    [
        1.0074028462117823,
        0.058973445343011716,
        0.04256338881012875,
        1.3071197611011531,
    ],
    [
        0.9354929431649839,
        0.13898213624764796,
        0.0024192686624243467,
        1.219922508253241,
    ],
    [
        0.8634191009912154,
        0.20982049397439112,
        -0.038722535813821735,
        1.1370465305250552,
    ],
];
// torch 2.15.0+cu132

/// The context of step `step` of an f32 weight tensor, learning rate 1e-3.
fn ctx_f32(step: u64) -> StepContext<f32> {
    StepContext {
        id: ParamId {
            layer: 0,
            position: 0,
            name: "weight",
            kind: ParamKind::Weight,
        },
        learning_rate: 1e-3,
        step,
    }
}

/// Runs `steps` updates of `opt` on one f32 weight with the gradient `g` each time;
/// returns the weight and the state.
fn run_f32(opt: &dyn Optimizer<f32>, g: f32, steps: u64) -> (f32, ParamState<f32>) {
    let (mut p, mut state) = ([0.5_f32], ParamState::default());
    for step in 1..=steps {
        opt.update(&ctx_f32(step), &mut p, &[g], &mut state);
    }
    (p[0], state)
}

/// No optimizer keeps a subnormal number in its state (arithmetic on them is slow): a
/// gradient of 1e-20 squares to 1e-40 in f32, and a velocity left by one gradient of 1e-3
/// decays below 1.2e-38. Such gradients move an f32 weight of 0.5 no differently from
/// a zero gradient (which AdamW's weight decay still moves), flushed or not.
#[test]
fn optimizer_state_holds_no_subnormal_numbers() {
    let subnormal = |x: &f32| *x != 0.0 && x.abs() < f32::MIN_POSITIVE;
    let opts: [(&dyn Optimizer<f32>, usize); 5] = [
        (&Adam::default(), 2),
        (&AdamW::default(), 2),
        (&RmsProp::default(), 1),
        (&Momentum::default(), 1),
        (&NotesMomentum::default(), 1),
    ];
    for (opt, buffers) in opts {
        // A tiny gradient every step: g² is subnormal.
        let (p, mut state) = run_f32(opt, 1e-20, 50);
        for i in 0..buffers {
            let buf = state.buffer(i, 1);
            assert!(!buf.iter().any(subnormal), "{}: {buf:?}", opt.name());
        }
        assert_eq!(p, run_f32(opt, 0.0, 50).0, "{}", opt.name());
    }
    // One real gradient, then none: the moments decay through the subnormal range
    // (0.9¹⁰⁰⁰ ≈ 1.7e-46 of their size) and are flushed on the way.
    for (opt, buffers) in opts {
        let (mut p, mut state) = ([0.5_f32], ParamState::default());
        for step in 1..=1000u64 {
            let g = if step == 1 { 1e-3 } else { 0.0 };
            opt.update(&ctx_f32(step), &mut p, &[g], &mut state);
            for i in 0..buffers {
                let buf = state.buffer(i, 1);
                assert!(
                    !buf.iter().any(subnormal),
                    "{} step {step}: {buf:?}",
                    opt.name()
                );
            }
        }
        assert!(p[0].is_finite(), "{}", opt.name());
    }
}

/// With an `ε` so small that a subnormal second moment matters next to it, Adam keeps it:
/// the flush is only taken where it cannot change a step.
#[test]
fn adam_with_a_tiny_epsilon_keeps_subnormal_moments() {
    let adam = Adam {
        eps: 1e-30,
        ..Adam::default()
    };
    let (p, mut state) = run_f32(&adam, 1e-20, 3);
    let v = state.buffer(1, 1)[0];
    assert!(v > 0.0 && v < f32::MIN_POSITIVE, "{v}");
    // The scale-free step of Adam: about α per step even for a gradient of 1e-20.
    assert!((0.5 - p - 3e-3).abs() < 1e-4, "{p}");
}
