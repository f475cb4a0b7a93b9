//! Train the bundled prompt-injection classifier (see `scripts/train_injection.sh`, which
//! prepares the data and runs this).
//!
//! ```sh
//! cargo run --release -p ai-guard --example train_injection -- \
//!     --train a.jsonl b.jsonl --calibrate c.jsonl --target-fpr 0.01 --out ai-guard/data/injection-lr.bin
//! ```
//!
//! Input rows are JSON Lines with `text` and `label` (1 attack, 0 benign). Logistic regression
//! on hashed features of the normalised text (`ai_guard::injection::classifier::features`),
//! AdaGrad, a fixed seed: the same data gives the same file. The threshold stored with the
//! model is chosen on the calibration rows only: the lowest score threshold whose false
//! positive rate there is at most the target, for the full scorer (rules + classifier).
#![allow(clippy::print_stdout)]

use ai_guard::injection::classifier::{Features, LinearModel};
use ai_guard::injection::{InjectionScorer, heuristics, normalize};

type Row = (String, f32, f32);

fn read(path: &str) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let mut rows = Vec::new();
    for line in std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let (Some(t), Some(l)) = (v["text"].as_str(), v["label"].as_i64()) else {
            continue;
        };
        let weight = v["weight"].as_f64().unwrap_or(1.0) as f32;
        rows.push((t.to_owned(), if l > 0 { 1.0 } else { 0.0 }, weight));
    }
    Ok(rows)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut train, mut calib) = (Vec::new(), Vec::new());
    let (mut out, mut target, mut bits, mut epochs) = (String::new(), 0.01f32, 18u32, 12usize);
    let mut mode = "";
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--train" | "--calibrate" => mode = if a == "--train" { "t" } else { "c" },
            "--out" => out = args.next().ok_or("--out FILE")?,
            "--target-fpr" => target = args.next().ok_or("--target-fpr X")?.parse()?,
            "--bits" => bits = args.next().ok_or("--bits N")?.parse()?,
            "--epochs" => epochs = args.next().ok_or("--epochs N")?.parse()?,
            file if mode == "t" => train.extend(read(file)?),
            file if mode == "c" => calib.extend(read(file)?),
            other => return Err(format!("unexpected argument {other}").into()),
        }
    }
    if out.is_empty() || train.is_empty() || calib.is_empty() {
        return Err("need --train FILE..., --calibrate FILE... and --out FILE".into());
    }
    // Balance the classes by weighting: attacks are rarer in most corpora.
    let pos = train.iter().filter(|r| r.1 > 0.5).count().max(1) as f32;
    let neg = (train.len() as f32 - pos).max(1.0);
    let feats: Vec<(Features, f32, f32)> = train
        .iter()
        .map(|(t, l, w)| {
            let n = normalize(t).text;
            let rules: Vec<&str> = heuristics::signals(&n).into_iter().map(|r| r.0).collect();
            (Features::of(&n, &rules, bits), *l, *w)
        })
        .collect();
    let mut model = LinearModel::zeros(bits);
    let mut g2 = vec![0f32; (1usize << bits) + 1];
    let mut rng = fastrand::Rng::with_seed(20261127);
    let mut order: Vec<usize> = (0..feats.len()).collect();
    for epoch in 0..epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            let (f, l, weight) = &feats[i];
            // Balance the classes and apply the row's weight by scaling its step.
            let w = if *l > 0.5 { neg / pos } else { 1.0 }.sqrt() * weight;
            model.train_step(f, *l, 0.3 * w, 1e-6, &mut g2);
        }
        let loss: f32 = feats
            .iter()
            .map(|(f, l, _)| {
                let p = model.score_features(f).clamp(1e-6, 1.0 - 1e-6);
                -(l * p.ln() + (1.0 - l) * (1.0 - p).ln())
            })
            .sum::<f32>()
            / feats.len() as f32;
        println!("epoch {epoch}: training log-loss {loss:.4}");
    }
    let scorer = InjectionScorer::with_model(model.clone());
    let mut benign: Vec<f32> = calib
        .iter()
        .filter(|r| r.1 < 0.5)
        .map(|(t, _, _)| scorer.score(t).score)
        .collect();
    benign.sort_by(f32::total_cmp);
    let allowed = (target * benign.len() as f32).floor() as usize;
    // Flag strictly above the (allowed+1)-th highest benign score.
    let idx = benign.len().saturating_sub(allowed + 1);
    let threshold = benign.get(idx).map_or(0.5, |s| s + 1e-4).clamp(0.05, 0.99);
    model.threshold = threshold;
    let scorer = InjectionScorer::with_model(model.clone());
    let (mut tp, mut fn_, mut fp, mut tn) = (0, 0, 0, 0);
    for (t, l, _) in &calib {
        match (scorer.score(t).attack, *l > 0.5) {
            (true, true) => tp += 1,
            (false, true) => fn_ += 1,
            (true, false) => fp += 1,
            (false, false) => tn += 1,
        }
    }
    println!(
        "threshold {threshold:.4} on {} calibration rows: TPR {:.3}, FPR {:.3}",
        calib.len(),
        tp as f32 / (tp + fn_).max(1) as f32,
        fp as f32 / (fp + tn).max(1) as f32
    );
    std::fs::write(&out, model.to_bytes())?;
    println!("wrote {out}");
    Ok(())
}
