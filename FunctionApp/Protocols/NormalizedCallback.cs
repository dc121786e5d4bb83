using FunctionApp.Core;

namespace FunctionApp.Protocols;

/// <summary>One event as a platform handler reads it, before it gets its id and time.</summary>
internal sealed record EventDraft(
    RelationshipKind Kind,
    RelationshipAction Action,
    string Owner,
    string Peer,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>What a platform handler made of a callback it did not refuse.</summary>
internal abstract record HandledCallback;

/// <summary>What a platform handler makes of an accepted callback; the ingestor adds ids, times and batches.</summary>
/// <param name="DeliveryKey">What identifies this delivery (OpenIM operationID, Tencent Sign + RequestTime); null when nothing does.</param>
internal sealed record NormalizedCallback(
    string Platform,
    string AppId,
    string Command,
    string? ClientIp,
    string? OptPlatform,
    DateTimeOffset? SourceTime,
    string? OperationId,
    string? DeliveryKey,
    IReadOnlyList<EventDraft> Events,
    CallbackAnswer Answer,
    CallbackAnswer EnqueueFailedAnswer) : HandledCallback;

/// <summary>A callback acknowledged without queuing anything (a command this product does not handle).</summary>
internal sealed record IgnoredCallback(string Platform, string AppId, string Command, string Reason, CallbackAnswer Answer) : HandledCallback;

/// <summary>Attribute dictionaries: camelCase names, only fields the platform actually sent.</summary>
internal sealed class AttributeBuilder
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public AttributeBuilder Add(string name, string? value)
    {
        if (value is not null)
        {
            _values[name] = value;
        }

        return this;
    }

    public AttributeBuilder Add(string name, long? value) =>
        Add(name, value?.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public IReadOnlyDictionary<string, string> Build() => new Dictionary<string, string>(_values, StringComparer.Ordinal);
}
