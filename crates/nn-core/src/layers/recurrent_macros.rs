//! The methods every recurrent layer (`Elman`, `Lstm`, `Gru`: a tuple struct over its
//! [`Gated`](super::gated::Gated) parameters) shares, written once as macros.

/// The inherent methods every recurrent layer has, for a tuple struct whose field 0 is
/// its [`Gated`](super::gated::Gated) parameters: sizes, output, truncation.
macro_rules! recurrent_accessors {
    ($layer:ident, $unit:literal) => {
        impl<T: Real> $layer<T> {
            /// Steps `T` per sequence.
            pub fn steps(&self) -> usize {
                self.0.steps
            }

            /// Inputs `n_x` per step.
            pub fn step_inputs(&self) -> usize {
                self.0.n_x
            }

            #[doc = concat!("The number `n_h` of ", $unit, " (the state's size).")]
            pub fn hidden(&self) -> usize {
                self.0.n_h
            }

            /// Whether the layer outputs its last state or every state.
            pub fn output(&self) -> Steps {
                self.0.output
            }

            /// This layer with backpropagation through time truncated to `k` steps: the
            /// gradient is not carried back across the boundaries of `k`-step chunks
            /// counted back from the last step, as if the state were detached there
            /// (guide §13). `k ≥ T` is full backpropagation.
            ///
            /// # Errors
            /// [`CoreError::Architecture`] for `k = 0`.
            pub fn truncated(mut self, k: usize) -> Result<Self, CoreError> {
                self.0.truncate(k)?;
                Ok(self)
            }

            /// The truncation length, if backpropagation is truncated.
            pub fn truncation(&self) -> Option<usize> {
                self.0.truncate
            }
        }

        impl<T: Real> $crate::layers::gated::Truncate for $layer<T> {
            fn truncate_to(self, k: Option<usize>) -> Result<Self, CoreError> {
                match k {
                    Some(k) => self.truncated(k),
                    None => Ok(self),
                }
            }
        }
    };
}
pub(crate) use recurrent_accessors;

/// The [`Layer`](crate::Layer) methods every recurrent layer shares, for a tuple struct
/// whose field 0 is its [`Gated`](super::gated::Gated) parameters: the sizes, the
/// full-length passes (its passes with no lengths), and the output's steps (a sequence
/// with [`Steps::All`](crate::Steps::All)).
macro_rules! full_length_passes {
    () => {
        fn n_inputs(&self) -> usize {
            self.0.n_inputs()
        }

        fn n_outputs(&self) -> usize {
            self.0.n_outputs()
        }

        fn forward(
            &self,
            input: MatrixView<'_, T>,
            output: MatrixViewMut<'_, T>,
            scratch: &mut [T],
        ) -> Result<(), CoreError> {
            self.forward_with_lengths(input, output, scratch, &[])
        }

        fn backward(
            &self,
            saved: Saved<'_, T>,
            d_output: MatrixViewMut<'_, T>,
            scale: T,
            grads: &mut [Matrix<T>],
            d_input: Option<MatrixViewMut<'_, T>>,
        ) -> Result<(), CoreError> {
            self.backward_with_lengths(saved, d_output, scale, grads, d_input, &[])
        }

        /// `Some(T)` when every step's state is the output ([`Steps::All`](crate::Steps::All)).
        fn output_steps(&self) -> Option<usize> {
            self.0.output_steps()
        }
    };
}
pub(crate) use full_length_passes;
