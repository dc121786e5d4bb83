using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Azure;

namespace FunctionApp.Storage.Tables;

/// <summary>The Table service's JSON entity format (OData minimal metadata, with <c>@odata.type</c> where JSON cannot tell the type).</summary>
internal static class TableEntityJson
{
    private const string TypeSuffix = "@odata.type";

    public static byte[] Serialize(TableEntity entity)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("PartitionKey", entity.PartitionKey);
            writer.WriteString("RowKey", entity.RowKey);
            foreach (var (name, value) in entity.Properties)
            {
                switch (value)
                {
                    case string text:
                        writer.WriteString(name, text);
                        break;
                    case bool flag:
                        writer.WriteBoolean(name, flag);
                        break;
                    case int number:
                        writer.WriteNumber(name, number);
                        break;
                    case long number:
                        writer.WriteString(name, number.ToString(CultureInfo.InvariantCulture));
                        writer.WriteString(name + TypeSuffix, "Edm.Int64");
                        break;
                    case double number:
                        WriteDouble(writer, name, number);
                        writer.WriteString(name + TypeSuffix, "Edm.Double");
                        break;
                    case DateTimeOffset time:
                        writer.WriteString(name, time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
                        writer.WriteString(name + TypeSuffix, "Edm.DateTime");
                        break;
                    case Guid guid:
                        writer.WriteString(name, guid.ToString("D"));
                        writer.WriteString(name + TypeSuffix, "Edm.Guid");
                        break;
                    case byte[] bytes:
                        writer.WriteBase64String(name, bytes);
                        writer.WriteString(name + TypeSuffix, "Edm.Binary");
                        break;
                    default:
                        throw new InvalidOperationException($"Property '{name}' has an unsupported type {value.GetType().Name}.");
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteDouble(Utf8JsonWriter writer, string name, double number)
    {
        // JSON has no NaN or infinities; the service accepts them as strings when typed Edm.Double.
        if (double.IsFinite(number))
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteString(name, double.IsNaN(number) ? "NaN" : number > 0 ? "Infinity" : "-Infinity");
        }
    }

    public static TableEntity Read(JsonElement element)
    {
        // $select may leave the keys out.
        var partitionKey = element.TryGetProperty("PartitionKey", out var pk) ? pk.GetString() ?? "" : "";
        var rowKey = element.TryGetProperty("RowKey", out var rk) ? rk.GetString() ?? "" : "";
        var entity = new TableEntity(partitionKey, rowKey);
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            if (name is "PartitionKey" or "RowKey" || name.Contains('@', StringComparison.Ordinal) || name.StartsWith("odata.", StringComparison.Ordinal))
            {
                if (name == "odata.etag")
                {
                    entity.ETag = new ETag(property.Value.GetString() ?? "");
                }

                continue;
            }

            var type = element.TryGetProperty(name + TypeSuffix, out var annotation) ? annotation.GetString() : null;
            if (name == "Timestamp")
            {
                entity.Timestamp = ParseDateTime(property.Value.GetString());
                continue;
            }

            entity.Properties[name] = ReadValue(property.Value, type, name);
        }

        return entity;
    }

    private static object ReadValue(JsonElement value, string? type, string name) => type switch
    {
        "Edm.Int64" => long.Parse(value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText(), CultureInfo.InvariantCulture),
        "Edm.Int32" => value.GetInt32(),
        "Edm.Double" => value.ValueKind == JsonValueKind.String
            ? double.Parse(value.GetString()!, CultureInfo.InvariantCulture)
            : value.GetDouble(),
        "Edm.DateTime" => ParseDateTime(value.GetString()),
        "Edm.Guid" => Guid.Parse(value.GetString()!),
        "Edm.Binary" => value.GetBytesFromBase64(),
        "Edm.Boolean" => value.GetBoolean(),
        "Edm.String" or null => value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when value.TryGetInt32(out var number) => number,
            JsonValueKind.Number => value.GetDouble(),
            _ => throw new FormatException($"Property '{name}' has an unexpected JSON value."),
        },
        _ => throw new FormatException($"Property '{name}' has the unsupported type {type}."),
    };

    private static DateTimeOffset ParseDateTime(string? text) =>
        DateTimeOffset.Parse(text ?? throw new FormatException("A DateTime property is null."), CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
}
