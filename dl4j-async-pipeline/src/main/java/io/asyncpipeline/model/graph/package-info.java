/**
 * The ComputationGraph adapter: consecutive vertices in topological order as sub-graphs; every activation produced
 * before a cut and used after it crosses it (skip connections included), with its mask.
 */
package io.asyncpipeline.model.graph;
