namespace FunctionApp.Protocols.OpenIm;

/// <summary>The OpenIM (open-im-server v3) relationship webhook commands this product handles.</summary>
public static class OpenImCommands
{
    public const string AfterAddFriend = "callbackAfterAddFriendCommand";
    public const string AfterAddFriendAgree = "callbackAfterAddFriendAgreeCommand";
    public const string AfterImportFriends = "callbackAfterImportFriendsCommand";
    public const string AfterDeleteFriend = "callbackAfterDeleteFriendCommand";
    public const string BeforeAddBlack = "callbackBeforeAddBlackCommand";
    public const string AfterRemoveBlack = "callbackAfterRemoveBlackCommand";
    public const string AfterSetFriendRemark = "callbackAfterSetFriendRemarkCommand";

    public static IReadOnlyList<string> All { get; } =
        [AfterAddFriend, AfterAddFriendAgree, AfterImportFriends, AfterDeleteFriend, BeforeAddBlack, AfterRemoveBlack, AfterSetFriendRemark];

    /// <summary>The header OpenIM sends with every callback to identify the operation.</summary>
    public const string OperationIdHeader = "operationID";

    /// <summary>The legacy (up to v3.4.0) query parameter naming the command.</summary>
    public const string CommandQueryName = "command";
}
