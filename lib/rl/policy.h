/* policy: the action distributions of the policy-gradient agents (internal to lib/rl).
 *
 * A policy network outputs, per state, either the logits of a softmax over n_actions
 * discrete actions, or (n_actions == 0) the mean and the log standard deviation of a
 * Gaussian over one continuous action (log std clamped to [-5, 2]).  Entropies are in
 * nats. */
#ifndef RUNNEL_RL_POLICY_H
#define RUNNEL_RL_POLICY_H

#include "base/rng.h"

/* Outputs of the network: n_actions, or 2 (mean, log std). */
int policy_outputs(int n_actions);
double policy_sample(const float *out, int n_actions, rng_t *rng);
/* The most likely action: the argmax, or the mean. */
double policy_mode(const float *out, int n_actions);
double policy_logprob(const float *out, int n_actions, double a);
double policy_entropy(const float *out, int n_actions);
/* dout += c_logp * d log pi(a) / d out + c_ent * d entropy / d out. */
void policy_grad(const float *out, int n_actions, double a, double c_logp, double c_ent,
                 float *dout);

#endif
