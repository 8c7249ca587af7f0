/** The MultiLayerNetwork adapter: consecutive layer ranges as sub-networks, one activation crossing each cut. */
package io.asyncpipeline.model.multilayer;
