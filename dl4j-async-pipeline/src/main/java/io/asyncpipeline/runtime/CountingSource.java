package io.asyncpipeline.runtime;

import io.asyncpipeline.stage.MicroBatchSource;

/** A micro-batch source that counts what it handed out and keeps the batch error that ended it early. */
interface CountingSource extends MicroBatchSource {

    /** Micro-batches handed out so far. */
    int microBatches();

    /** Examples handed out so far. */
    int examples();

    /** The batch error that ended the stream early, or null. */
    RuntimeException error();
}
