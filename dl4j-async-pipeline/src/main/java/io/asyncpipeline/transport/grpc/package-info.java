/**
 * Stage-to-stage channels over gRPC ({@link io.asyncpipeline.transport.grpc.GrpcTransport}); the only package that
 * uses gRPC, an optional dependency.
 */
package io.asyncpipeline.transport.grpc;
