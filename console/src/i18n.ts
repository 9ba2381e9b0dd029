// English and French strings of the console. `t(key)` in the current
// language (chosen on the login page or in the header, remembered for the
// tab only: nothing of the console is written to localStorage).
export type Lang = 'en' | 'fr';

const en = {
  'app.title': 'xivo-auth console',
  'login.title': 'Sign in', 'login.username': 'Username', 'login.password': 'Password', 'login.submit': 'Sign in',
  'login.mfa': 'Verification code', 'login.failed': 'Wrong username or password', 'login.expired': 'Your session ended: sign in again',
  'login.throttled': 'Too many attempts: retry later',
  'nav.tenants': 'Tenants', 'nav.users': 'Users', 'nav.groups': 'Groups', 'nav.policies': 'Policies', 'nav.sessions': 'Sessions',
  'nav.audit': 'Audit trail', 'nav.throttles': 'Login throttling', 'nav.backends': 'Backends', 'nav.explain': 'Access explainer',
  'nav.main': 'Main', 'header.tenant': 'Tenant', 'header.logout': 'Log out', 'header.lang': 'Language',
  'common.loading': 'Loading…', 'common.empty': 'Nothing here yet.', 'common.create': 'Create', 'common.save': 'Save',
  'common.delete': 'Delete', 'common.cancel': 'Cancel', 'common.edit': 'Edit', 'common.search': 'Search', 'common.name': 'Name',
  'common.confirm': 'Confirm', 'common.confirmDelete': 'Delete {x}? This cannot be undone.', 'common.actions': 'Actions',
  'common.previous': 'Previous', 'common.next': 'Next', 'common.page': '{from}–{to} of {total}', 'common.saved': 'Saved',
  'common.refresh': 'Refresh', 'common.description': 'Description', 'common.yes': 'yes', 'common.no': 'no', 'common.close': 'Close',
  'tenants.domains': 'Domain names (comma separated)', 'tenants.phone': 'Phone', 'tenants.contact': 'Contact (user uuid)',
  'tenants.slug': 'Slug', 'tenants.parent': 'Parent', 'tenants.new': 'New tenant',
  'users.username': 'Username', 'users.firstname': 'First name', 'users.lastname': 'Last name', 'users.email': 'Email address',
  'users.password': 'Password', 'users.enabled': 'Enabled', 'users.enable': 'Enable', 'users.disable': 'Disable', 'users.new': 'New user',
  'users.policies': 'Policies', 'users.groups': 'Groups', 'users.sessions': 'Sessions', 'users.addPolicy': 'Attach policy',
  'users.detach': 'Detach', 'users.details': 'Details',
  'groups.new': 'New group', 'groups.members': 'Members', 'groups.addUser': 'Add user',
  'policies.new': 'New policy', 'policies.acl': 'ACL (one access per line)', 'policies.shared': 'Shared with sub-tenants',
  'policies.readOnly': 'read-only', 'policies.invalidAccess': 'Invalid access on line {n}: {why}',
  'sessions.user': 'User', 'sessions.mobile': 'Mobile', 'sessions.revoke': 'Revoke', 'sessions.confirm': 'Revoke session {x}? Its tokens stop working at once.',
  'audit.when': 'When', 'audit.action': 'Action', 'audit.outcome': 'Outcome', 'audit.actor': 'Actor', 'audit.target': 'Target',
  'audit.from': 'From', 'audit.to': 'To', 'audit.filter': 'Actor or action contains',
  'throttles.login': 'Login', 'throttles.kind': 'Counter', 'throttles.failures': 'Failures', 'throttles.until': 'Blocked until',
  'throttles.unlock': 'Unlock', 'throttles.address': 'address', 'throttles.account': 'account', 'throttles.confirm': 'Unlock {x}?',
  'throttles.unknown': '(unknown login)', 'throttles.none': 'No login is backing off.',
  'backends.status': 'Service status', 'backends.ldap': 'LDAP configuration', 'backends.host': 'Host', 'backends.port': 'Port',
  'backends.protocol': 'Protocol security', 'backends.bindDn': 'Bind DN', 'backends.bindPassword': 'Bind password (write-only; empty: unchanged)',
  'backends.baseDn': 'User base DN', 'backends.loginAttr': 'Login attribute', 'backends.emailAttr': 'Email attribute',
  'backends.notConfigured': 'No LDAP configuration for this tenant.', 'backends.enabled': 'Enabled backends',
  'explain.user': 'User', 'explain.token': 'or paste a token', 'explain.access': 'Access', 'explain.check': 'Explain',
  'explain.granted': 'Granted', 'explain.denied': 'Denied', 'explain.by': 'decided by {p}', 'explain.nothing': 'no pattern matches',
  'explain.subst': 'me = {me}, my_session = {s}', 'explain.acl': 'ACL used', 'explain.pick': '(pick a user)',
  'explain.userNote': 'A user\'s ACL here is the union of its policies and its groups\' policies (the default user policy and a backend\'s accesses are not included).',
};
type Key = keyof typeof en;

const fr: Record<Key, string> = {
  'app.title': 'Console xivo-auth',
  'login.title': 'Connexion', 'login.username': 'Identifiant', 'login.password': 'Mot de passe', 'login.submit': 'Se connecter',
  'login.mfa': 'Code de vérification', 'login.failed': 'Identifiant ou mot de passe incorrect', 'login.expired': 'Votre session est terminée : reconnectez-vous',
  'login.throttled': 'Trop de tentatives : réessayez plus tard',
  'nav.tenants': 'Tenants', 'nav.users': 'Utilisateurs', 'nav.groups': 'Groupes', 'nav.policies': 'Politiques', 'nav.sessions': 'Sessions',
  'nav.audit': 'Journal d\'audit', 'nav.throttles': 'Limitation des connexions', 'nav.backends': 'Backends', 'nav.explain': 'Explication des accès',
  'nav.main': 'Principal', 'header.tenant': 'Tenant', 'header.logout': 'Se déconnecter', 'header.lang': 'Langue',
  'common.loading': 'Chargement…', 'common.empty': 'Rien pour l\'instant.', 'common.create': 'Créer', 'common.save': 'Enregistrer',
  'common.delete': 'Supprimer', 'common.cancel': 'Annuler', 'common.edit': 'Modifier', 'common.search': 'Rechercher', 'common.name': 'Nom',
  'common.confirm': 'Confirmer', 'common.confirmDelete': 'Supprimer {x} ? C\'est définitif.', 'common.actions': 'Actions',
  'common.previous': 'Précédent', 'common.next': 'Suivant', 'common.page': '{from}–{to} sur {total}', 'common.saved': 'Enregistré',
  'common.refresh': 'Actualiser', 'common.description': 'Description', 'common.yes': 'oui', 'common.no': 'non', 'common.close': 'Fermer',
  'tenants.domains': 'Noms de domaine (séparés par des virgules)', 'tenants.phone': 'Téléphone', 'tenants.contact': 'Contact (uuid d\'utilisateur)',
  'tenants.slug': 'Slug', 'tenants.parent': 'Parent', 'tenants.new': 'Nouveau tenant',
  'users.username': 'Identifiant', 'users.firstname': 'Prénom', 'users.lastname': 'Nom', 'users.email': 'Adresse e-mail',
  'users.password': 'Mot de passe', 'users.enabled': 'Actif', 'users.enable': 'Activer', 'users.disable': 'Désactiver', 'users.new': 'Nouvel utilisateur',
  'users.policies': 'Politiques', 'users.groups': 'Groupes', 'users.sessions': 'Sessions', 'users.addPolicy': 'Associer la politique',
  'users.detach': 'Détacher', 'users.details': 'Détails',
  'groups.new': 'Nouveau groupe', 'groups.members': 'Membres', 'groups.addUser': 'Ajouter l\'utilisateur',
  'policies.new': 'Nouvelle politique', 'policies.acl': 'ACL (un accès par ligne)', 'policies.shared': 'Partagée avec les sous-tenants',
  'policies.readOnly': 'lecture seule', 'policies.invalidAccess': 'Accès invalide ligne {n} : {why}',
  'sessions.user': 'Utilisateur', 'sessions.mobile': 'Mobile', 'sessions.revoke': 'Révoquer', 'sessions.confirm': 'Révoquer la session {x} ? Ses jetons cessent aussitôt de fonctionner.',
  'audit.when': 'Quand', 'audit.action': 'Action', 'audit.outcome': 'Résultat', 'audit.actor': 'Auteur', 'audit.target': 'Cible',
  'audit.from': 'Du', 'audit.to': 'Au', 'audit.filter': 'Auteur ou action contient',
  'throttles.login': 'Identifiant', 'throttles.kind': 'Compteur', 'throttles.failures': 'Échecs', 'throttles.until': 'Bloqué jusqu\'à',
  'throttles.unlock': 'Débloquer', 'throttles.address': 'adresse', 'throttles.account': 'compte', 'throttles.confirm': 'Débloquer {x} ?',
  'throttles.unknown': '(identifiant inconnu)', 'throttles.none': 'Aucune connexion n\'est ralentie.',
  'backends.status': 'État du service', 'backends.ldap': 'Configuration LDAP', 'backends.host': 'Hôte', 'backends.port': 'Port',
  'backends.protocol': 'Sécurité du protocole', 'backends.bindDn': 'DN de connexion', 'backends.bindPassword': 'Mot de passe de connexion (écriture seule ; vide : inchangé)',
  'backends.baseDn': 'DN de base des utilisateurs', 'backends.loginAttr': 'Attribut d\'identifiant', 'backends.emailAttr': 'Attribut e-mail',
  'backends.notConfigured': 'Pas de configuration LDAP pour ce tenant.', 'backends.enabled': 'Backends activés',
  'explain.user': 'Utilisateur', 'explain.token': 'ou collez un jeton', 'explain.access': 'Accès', 'explain.check': 'Expliquer',
  'explain.granted': 'Accordé', 'explain.denied': 'Refusé', 'explain.by': 'décidé par {p}', 'explain.nothing': 'aucun motif ne correspond',
  'explain.subst': 'me = {me}, my_session = {s}', 'explain.acl': 'ACL utilisée', 'explain.pick': '(choisissez un utilisateur)',
  'explain.userNote': 'L\'ACL d\'un utilisateur est ici l\'union de ses politiques et de celles de ses groupes (sans la politique par défaut ni les accès d\'un backend).',
};

const tables: Record<Lang, Record<Key, string>> = { en, fr };
let current: Lang = (sessionStorage.getItem('xivo-auth-console.lang') as Lang | null) ?? (navigator.language.startsWith('fr') ? 'fr' : 'en');

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = l;
  sessionStorage.setItem('xivo-auth-console.lang', l);
  document.documentElement.lang = l;
}

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  return tables[current][key].replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ''));
}

export type { Key };
