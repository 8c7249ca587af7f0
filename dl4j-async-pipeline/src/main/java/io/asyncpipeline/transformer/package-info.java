/** The bundled SameDiff decoder-only transformer, built as a user would build one and cut by the pipeline. */
package io.asyncpipeline.transformer;
