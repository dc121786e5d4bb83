namespace FunctionApp.Protocols;

/// <summary>Bounds on what one callback may hold, so a hostile or broken sender cannot exhaust the app or the queue.</summary>
public sealed class CallbackLimits
{
    /// <summary>Largest body accepted (bytes); larger gets 413. Hosts read at most this plus one byte.</summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Most pairs or items in one callback (Tencent documents about 1,000 per PairList).</summary>
    public int MaxPairs { get; set; } = 1000;

    /// <summary>Longest user id accepted, in UTF-16 characters.</summary>
    public int MaxUserIdLength { get; set; } = 128;

    /// <summary>
    /// Largest serialized queue message (bytes). Service Bus Standard allows 256 KB including headers, so the default
    /// keeps well clear of it; larger callbacks are split into parts.
    /// </summary>
    public int MaxMessageBytes { get; set; } = 192 * 1024;

    /// <summary>
    /// Longest attribute value kept (UTF-16 characters); longer free text (a request message, a remark) is cut there,
    /// so one event always fits in a queue message.
    /// </summary>
    public int MaxAttributeLength { get; set; } = 4096;
}
