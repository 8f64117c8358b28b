import { UsersAdmin } from "./users-admin";

export default function SettingsPage() {
  return (
    <div className="space-y-4">
      <h1 className="text-lg font-semibold">Settings</h1>
      <UsersAdmin />
    </div>
  );
}
