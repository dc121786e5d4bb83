using Azure;

namespace FunctionApp.Storage.Tables;

/// <summary>
/// A Table entity: its keys, the service's Timestamp and ETag, and typed properties. Property values are
/// <see cref="string"/>, <see cref="bool"/>, <see cref="int"/>, <see cref="long"/>, <see cref="double"/>,
/// <see cref="DateTimeOffset"/>, <see cref="Guid"/> or <see cref="byte"/>[] (Edm.String, Boolean, Int32, Int64, Double,
/// DateTime, Guid, Binary).
/// </summary>
public sealed class TableEntity
{
    public TableEntity(string partitionKey, string rowKey)
    {
        PartitionKey = partitionKey ?? throw new ArgumentNullException(nameof(partitionKey));
        RowKey = rowKey ?? throw new ArgumentNullException(nameof(rowKey));
    }

    public string PartitionKey { get; }
    public string RowKey { get; }

    /// <summary>Set by the service; ignored on writes.</summary>
    public DateTimeOffset? Timestamp { get; set; }

    /// <summary>Set by the service on reads; used as If-Match by conditional writes.</summary>
    public ETag ETag { get; set; }

    public Dictionary<string, object> Properties { get; } = new(StringComparer.Ordinal);

    public object? this[string name]
    {
        get => Properties.GetValueOrDefault(name);
        set
        {
            if (value is null)
            {
                Properties.Remove(name);
            }
            else
            {
                Properties[name] = value switch
                {
                    DateTime dateTime => new DateTimeOffset(dateTime.Kind == DateTimeKind.Unspecified
                        ? DateTime.SpecifyKind(dateTime, DateTimeKind.Utc)
                        : dateTime),
                    string or bool or int or long or double or DateTimeOffset or Guid or byte[] => value,
                    _ => throw new ArgumentException($"Property '{name}' has type {value.GetType().Name}, which Table storage cannot hold.", nameof(value)),
                };
            }
        }
    }

    public string? GetString(string name) => Properties.GetValueOrDefault(name) as string;

    public long? GetInt64(string name) => Properties.GetValueOrDefault(name) switch
    {
        long value => value,
        int value => value,
        _ => null,
    };

    public int? GetInt32(string name) => Properties.GetValueOrDefault(name) is int value ? value : null;

    public double? GetDouble(string name) => Properties.GetValueOrDefault(name) switch
    {
        double value => value,
        int value => value,
        _ => null,
    };

    public bool? GetBoolean(string name) => Properties.GetValueOrDefault(name) is bool value ? value : null;

    public DateTimeOffset? GetDateTimeOffset(string name) => Properties.GetValueOrDefault(name) is DateTimeOffset value ? value : null;

    public Guid? GetGuid(string name) => Properties.GetValueOrDefault(name) is Guid value ? value : null;

    public byte[]? GetBinary(string name) => Properties.GetValueOrDefault(name) as byte[];
}

/// <summary>How a write treats the properties an entity already has.</summary>
public enum TableUpdateMode
{
    /// <summary>The entity becomes exactly the sent properties.</summary>
    Replace,
    /// <summary>Sent properties overwrite, others stay.</summary>
    Merge,
}
