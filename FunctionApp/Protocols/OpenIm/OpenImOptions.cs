namespace FunctionApp.Protocols.OpenIm;

/// <summary>How OpenIM callbacks are recognised and stored.</summary>
public sealed class OpenImOptions
{
    /// <summary>The app id OpenIM events are stored under.</summary>
    public string AppId { get; set; } = "openim";

    /// <summary>
    /// When set, the callback URL is <c>/api/callbacks/openim/&lt;key&gt;</c> and any other key is refused
    /// (the open-source OpenIM server signs nothing, so a secret path is the only check available).
    /// </summary>
    public string? CallbackKey { get; set; }
}
