//! Label maps (method §3): a binary task from any labelled set. A point whose class is in
//! `positive` gets `y = +1`, every other point `y = -1`. The paper's two tasks are named maps of
//! this mechanism: `mnist-parity` (even digits) and `cifar-animals` (the six animal classes).

use crate::error::{Error, Result};

/// The classes labelled `+1`, sorted and without repeats.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LabelMap {
    positive: Vec<i64>,
}

impl LabelMap {
    /// The map with `positive` as the `+1` classes (any order, repeats ignored).
    pub fn new(positive: &[i64]) -> Self {
        let mut positive = positive.to_vec();
        positive.sort_unstable();
        positive.dedup();
        LabelMap { positive }
    }

    /// `mnist-parity`: even digits are `+1`.
    pub fn even_digits() -> Self {
        LabelMap::new(&[0, 2, 4, 6, 8])
    }

    /// `cifar-animals`: bird, cat, deer, dog, frog, horse (classes 2-7) are `+1`; the vehicles
    /// (0 airplane, 1 automobile, 8 ship, 9 truck) are `-1`.
    pub fn cifar_animals() -> Self {
        LabelMap::new(&[2, 3, 4, 5, 6, 7])
    }

    pub fn positive(&self) -> &[i64] {
        &self.positive
    }

    /// `y` of a point of class `class`.
    pub fn label(&self, class: i64) -> f32 {
        if self.positive.binary_search(&class).is_ok() {
            1.0
        } else {
            -1.0
        }
    }

    /// The labels of `classes`, refused when they are all one sign: a task needs both classes.
    /// `origin` names the data in the error.
    pub fn labels(&self, classes: &[i64], origin: &str) -> Result<Vec<f32>> {
        let labels: Vec<f32> = classes.iter().map(|&c| self.label(c)).collect();
        let plus = labels.iter().filter(|&&y| y > 0.0).count();
        if !labels.is_empty() && (plus == 0 || plus == labels.len()) {
            let mut found = classes.to_vec();
            found.sort_unstable();
            found.dedup();
            let which = if plus == 0 { "none" } else { "all" };
            return Err(Error::data(
                origin,
                format!(
                    "positive = {:?} selects {which} of the points (classes found: {}); list some but not all of them",
                    self.positive,
                    classes_text(&found)
                ),
            ));
        }
        Ok(labels)
    }
}

/// `0, 1, ..., 9`, cut after 12 classes.
fn classes_text(found: &[i64]) -> String {
    let mut text: Vec<String> = found.iter().take(12).map(i64::to_string).collect();
    if found.len() > 12 {
        text.push(format!("... ({} classes)", found.len()));
    }
    text.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_maps_give_the_paper_labels() {
        let parity = LabelMap::even_digits();
        for d in 0..10 {
            assert_eq!(parity.label(d), if d % 2 == 0 { 1.0 } else { -1.0 });
        }
        let animals = LabelMap::cifar_animals();
        for c in 0..10 {
            let vehicle = matches!(c, 0 | 1 | 8 | 9);
            assert_eq!(animals.label(c), if vehicle { -1.0 } else { 1.0 });
        }
        assert_eq!(LabelMap::new(&[4, 0, 2, 0]).positive(), &[0, 2, 4]);
    }

    #[test]
    fn a_map_selecting_no_point_or_every_point_is_refused() {
        let e = LabelMap::new(&[7])
            .labels(&[0, 1, 2], "y.npy")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("y.npy") && e.contains("selects none") && e.contains("0, 1, 2"),
            "{e}"
        );
        let e = LabelMap::new(&[0, 1])
            .labels(&[0, 1, 1], "y.npy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("selects all"), "{e}");
        assert_eq!(
            LabelMap::new(&[1]).labels(&[0, 1], "y").unwrap(),
            vec![-1.0, 1.0]
        );
    }
}
