/** The pure min-max contiguous partition solver the model adapters balance their stages with. */
package io.asyncpipeline.partition;
