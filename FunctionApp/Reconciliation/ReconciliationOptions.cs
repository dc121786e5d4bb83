namespace FunctionApp.Reconciliation;

/// <summary>One Tencent app's admin API access (section <c>Reconciliation:Tencent:Apps:&lt;SdkAppid&gt;</c>).</summary>
public sealed class TencentReconcileApp
{
    /// <summary>The app's secret key from the Chat console: UserSigs are made from it.</summary>
    public string SecretKey { get; set; } = "";

    /// <summary>The app admin account the REST API is called as.</summary>
    public string AdminIdentifier { get; set; } = "administrator";

    /// <summary>The region's API domain (console.tim.qq.com, adminapisgp.im.qcloud.com, ...), or an absolute base URL.</summary>
    public string Domain { get; set; } = "console.tim.qq.com";

    /// <summary>How long a generated UserSig is valid, in seconds (default one day); a new one is made before it expires.</summary>
    public int UserSigLifetimeSeconds { get; set; } = 86_400;
}

/// <summary>The OpenIM admin API (section <c>Reconciliation:OpenIm</c>), for the app id <c>OpenIm:AppId</c>.</summary>
public sealed class OpenImReconcileApp
{
    /// <summary>The OpenIM API's base URL (for example http://openim-api:10002); empty: OpenIM is not reconciled.</summary>
    public string ApiUrl { get; set; } = "";

    /// <summary>The server's admin secret (<c>share.secret</c> in OpenIM's configuration).</summary>
    public string Secret { get; set; } = "";

    /// <summary>An admin user id (<c>imAdminUserID</c> in OpenIM's configuration).</summary>
    public string AdminUserId { get; set; } = "imAdmin";
}

/// <summary>Settings of reconciliation (section <c>Reconciliation</c>; README "Reconciliation").</summary>
public sealed class ReconciliationOptions
{
    public const string SectionName = "Reconciliation";

    public Dictionary<string, TencentReconcileApp> TencentApps { get; } = new(StringComparer.Ordinal);

    public OpenImReconcileApp OpenIm { get; set; } = new();

    /// <summary>The app id OpenIM's edges are stored under (<c>OpenIm:AppId</c>).</summary>
    public string OpenImAppId { get; set; } = "openim";

    /// <summary>The platform's limit per app (both allow 200 calls/s); the client stays just under it.</summary>
    public int CallsPerSecond { get; set; } = 200;

    /// <summary>Share of <see cref="CallsPerSecond"/> the client aims at, leaving room for timing jitter.</summary>
    public double RateHeadroom { get; set; } = 0.95;

    /// <summary>Users reconciled per app per scheduled run (default 500).</summary>
    public int UsersPerRun { get; set; } = 500;

    /// <summary>Users reconciled at once (default 8).</summary>
    public int Concurrency { get; set; } = 8;

    /// <summary>Entries asked for per page (Tencent's blocklist and OpenIM's lists; Tencent's friend pages are fixed by Tencent).</summary>
    public int PageSize { get; set; } = 100;

    /// <summary>Longest a single admin API call may take, retries included, in seconds (default 30).</summary>
    public int CallTimeoutSeconds { get; set; } = 30;

    public bool IsConfigured => TencentApps.Count > 0 || !string.IsNullOrWhiteSpace(OpenIm.ApiUrl);
}
