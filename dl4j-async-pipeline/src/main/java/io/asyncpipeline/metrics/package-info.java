/** What a run did: per-stage busy time, op counts, observed delays and stash memory, and per-fit throughput. */
package io.asyncpipeline.metrics;
