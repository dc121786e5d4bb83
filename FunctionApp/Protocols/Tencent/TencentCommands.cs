namespace FunctionApp.Protocols.Tencent;

/// <summary>The Tencent Cloud Chat relationship-chain callback commands this product handles.</summary>
public static class TencentCommands
{
    public const string FriendAdd = "Sns.CallbackFriendAdd";
    public const string FriendDelete = "Sns.CallbackFriendDelete";
    public const string BlackListAdd = "Sns.CallbackBlackListAdd";
    public const string BlackListDelete = "Sns.CallbackBlackListDelete";
    public const string PrevFriendAdd = "Sns.CallbackPrevFriendAdd";
    public const string PrevFriendResponse = "Sns.CallbackPrevFriendResponse";

    public static IReadOnlyList<string> All { get; } =
        [FriendAdd, FriendDelete, BlackListAdd, BlackListDelete, PrevFriendAdd, PrevFriendResponse];
}

/// <summary>Query parameter names Tencent appends to the callback URL.</summary>
public static class TencentQueryNames
{
    public const string SdkAppId = "SdkAppid";
    public const string CallbackCommand = "CallbackCommand";
    public const string ContentType = "contenttype";
    public const string ClientIp = "ClientIP";
    public const string OptPlatform = "OptPlatform";
    public const string Sign = "Sign";
    public const string RequestTime = "RequestTime";
}
