using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FunctionApp.Protocols;

/// <summary>
/// Deterministic event and batch ids: SHA-256 over platform, app id, command, delivery key, the body's hash and the
/// event's index, hex, first 32 characters. The same delivery always yields the same ids, so downstream recognises a
/// platform retry (same delivery key and body) and a queue redelivery (the ids travel in the message). Without a
/// delivery key the receive time stands in, so platform retries of such callbacks cannot be recognised.
/// </summary>
internal sealed class EventIds
{
    private const int IdLength = 32;
    private readonly byte[] _prefix;

    public EventIds(string platform, string appId, string command, string? deliveryKey, ReadOnlySpan<byte> body, DateTimeOffset receivedAt)
    {
        var bodyHash = Convert.ToHexStringLower(SHA256.HashData(body));
        var key = deliveryKey is null
            ? "received:" + receivedAt.UtcTicks.ToString(CultureInfo.InvariantCulture)
            : "delivery:" + deliveryKey;
        using var stream = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        foreach (var part in new[] { platform, appId, command, key, bodyHash })
        {
            // Length-prefixed so that no two different tuples can produce the same bytes.
            var bytes = Encoding.UTF8.GetBytes(part);
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            stream.Write(length);
            stream.Write(bytes);
        }

        _prefix = stream.ToArray();
    }

    public string BatchId() => Hash(-1);

    public string EventId(int index) => Hash(index);

    private string Hash(int index)
    {
        var buffer = new byte[_prefix.Length + 4];
        _prefix.CopyTo(buffer, 0);
        BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(_prefix.Length), index);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer, hash);
        // Two hex characters per byte: the first IdLength characters of the whole hash's hex, without making it all.
        return Convert.ToHexStringLower(hash[..(IdLength / 2)]);
    }
}
