using FunctionApp.Protocols.OpenIm;
using FunctionApp.Protocols.Tencent;

namespace FunctionApp.Protocols;

/// <summary>Everything the ingestor needs to know from configuration (read by <c>Hosting.ProtocolConfiguration</c>).</summary>
public sealed class ProtocolOptions
{
    public TencentOptions Tencent { get; init; } = new();
    public OpenImOptions OpenIm { get; init; } = new();
    public CallbackLimits Limits { get; init; } = new();
}
