namespace FunctionApp.Hosting;

/// <summary>
/// The largest callback body the hosts hand to the ingestor. Hosts read at most <see cref="MaxBodyBytes"/> + 1 bytes
/// and pass on what they read; the ingestor answers 413 in the platform's format when the body is longer than the
/// limit. The value is the protocol limit <c>Callbacks:MaxBodyBytes</c>.
/// </summary>
public sealed record CallbackBodyLimit(int MaxBodyBytes)
{
    /// <summary>At most this many bytes are read from a callback body (one more than the limit, to detect "too large").</summary>
    public int ReadLimit => MaxBodyBytes + 1;
}
