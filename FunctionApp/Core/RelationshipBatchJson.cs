using System.Text.Json;
using System.Text.Json.Serialization;

namespace FunctionApp.Core;

/// <summary>The queue message's JSON form (documented in README "Queue message"). Source-generated for speed.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RelationshipBatch))]
[JsonSerializable(typeof(RelationshipBatch[]))]
internal sealed partial class RelationshipBatchJsonContext : JsonSerializerContext;

public static class RelationshipBatchJson
{
    public static byte[] Serialize(RelationshipBatch batch) =>
        JsonSerializer.SerializeToUtf8Bytes(batch, RelationshipBatchJsonContext.Default.RelationshipBatch);

    /// <summary>Reads a queue message; throws <see cref="InvalidBatchException"/> when it is not a batch this build can apply.</summary>
    public static RelationshipBatch Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        RelationshipBatch? batch;
        try
        {
            batch = JsonSerializer.Deserialize(utf8Json, RelationshipBatchJsonContext.Default.RelationshipBatch);
        }
        catch (JsonException ex)
        {
            throw new InvalidBatchException($"The message is not a relationship batch: {ex.Message}", ex);
        }

        if (batch is null)
        {
            throw new InvalidBatchException("The message is JSON null, not a relationship batch.");
        }

        if (batch.SchemaVersion != RelationshipBatch.CurrentSchemaVersion)
        {
            throw new InvalidBatchException(
                $"The message has schemaVersion {batch.SchemaVersion}; this build reads {RelationshipBatch.CurrentSchemaVersion}.");
        }

        if (batch.Source is null || batch.Events is null || batch.Events.Any(e => e is null || e.Owner is null || e.Peer is null || e.EventId is null))
        {
            throw new InvalidBatchException("The message lacks its source or has an event without eventId, owner or peer.");
        }

        return batch;
    }
}

/// <summary>A queue message that can never be applied: it goes to the poison or dead-letter queue at once.</summary>
public sealed class InvalidBatchException : Exception
{
    public InvalidBatchException() { }
    public InvalidBatchException(string message) : base(message) { }
    public InvalidBatchException(string message, Exception innerException) : base(message, innerException) { }
}
