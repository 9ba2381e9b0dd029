// English and French strings of the console. `t(key)` in the current
// language (chosen on the login page or in the header, remembered for the
// tab only: nothing of the console is written to localStorage).
export type Lang = 'en' | 'fr';

const en = {
  'app.title': 'xivo-auth console',
  'common.skip': 'Skip to content', 'common.menu': 'Menu', 'common.pagination': 'Pages', 'common.any': '(any)',
  'common.reload': 'Reload',
  'acl.empty': 'empty', 'acl.tooLong': 'longer than {n} characters', 'acl.space': 'white space', 'acl.wildcards': 'too many wildcards',
  'acl.tooMany': 'more than {n} accesses',
  'users.filters': 'Filters', 'users.purpose': 'Purpose', 'purpose.user': 'user', 'purpose.internal': 'internal', 'purpose.external_api': 'external API',
  'users.inGroup': 'Member of group', 'users.hasPolicy': 'Granted policy', 'users.recurse': 'Include sub-tenants',
  'users.editTitle': 'Edit {x}', 'users.confirmDisable': 'Disable {x}? Every session of this user ends at once.',
  'users.confirmDetach': 'Detach the policy {x} from {u}?',
  'users.tokens': 'Refresh tokens', 'users.tokensNone': 'No refresh token.', 'users.tokenCreated': 'created {d}',
  'users.tokenConfirm': 'Delete the refresh token of {x}? That application must sign in again.',
  'users.joinGroup': 'Add to group', 'users.leaveGroup': 'Remove from group', 'users.confirmLeave': 'Remove {x} from the group {g}? The user loses the group\'s policies.',
  'tenants.contactNone': '(no contact)', 'tenants.domainsColumn': 'Domain names',
  'sessions.session': 'Session', 'sessions.mine': 'this console',
  'audit.details': 'Details', 'audit.only': 'Show only this action', 'users.audit': 'Audit trail of this user',
  'backends.plain': 'none (plain)', 'backends.searchFilters': 'Search filter (optional; {username}, {user_login_attribute})',
  'backends.remove': 'Remove the configuration', 'backends.confirmRemove': 'Remove the LDAP configuration of this tenant? Its LDAP users can no longer sign in.',
  'backends.removed': 'Configuration removed', 'backends.health': 'Readiness (GET /health/ready)', 'backends.component': 'Component',
  'backends.state': 'State', 'backends.ready': 'ready', 'backends.notReady': 'not ready',
  'login.title': 'Sign in', 'login.username': 'Username', 'login.password': 'Password', 'login.submit': 'Sign in',
  'login.mfa': 'Verification code', 'login.failed': 'Wrong username or password', 'login.expired': 'Your session ended: sign in again',
  'login.throttled': 'Too many attempts: retry later',
  'login.mfaAsked': 'Enter the code of your authenticator app.', 'login.mfaFailed': 'Wrong code: try again',
  'login.mfaEnrol': 'This account must enrol a second factor before using the console.',
  'login.recovery': 'Recovery code', 'login.useRecovery': 'Use a recovery code instead', 'login.useTotp': 'Use the authenticator app instead',
  'method.default': 'Tenant default', 'method.native': 'Password (native)', 'method.ldap': 'LDAP', 'method.saml': 'SAML', 'method.oidc': 'OpenID Connect',
  'tenants.method': 'Default authentication method', 'tenants.moveUnder': 'Parent (move under)', 'tenants.parentDefault': '(the current tenant)',
  'tenants.address': 'Address', 'tenants.line_1': 'Address line 1', 'tenants.line_2': 'Address line 2', 'tenants.city': 'City',
  'tenants.state': 'State or region', 'tenants.country': 'Country', 'tenants.zip_code': 'Postal code',
  'users.method': 'Authentication method', 'users.setPassword': 'Set password', 'users.newPassword': 'New password',
  'users.passwordAgain': 'New password again', 'users.passwordMismatch': 'The two passwords differ',
  'users.passwordConfirm': 'Set a new password for {x}? Every session of this user ends.', 'users.passwordSet': 'Password set; the user\'s sessions ended.',
  'users.emails': 'Email addresses', 'users.main': 'main', 'users.confirmed': 'confirmed', 'users.unconfirmed': 'unconfirmed',
  'users.makeMain': 'Make main', 'users.emailConfirmRemove': 'Remove the address {x}?', 'users.addEmail': 'Add address',
  'users.newEmail': 'New email address', 'users.markConfirmed': 'Mark as confirmed',
  'users.mfa': 'Second factors (MFA)', 'users.mfaNone': 'No second factor.', 'users.mfaRemaining': '{n} codes left',
  'users.mfaConfirmRemove': 'Remove the second factor {x}? The user may then log in without it.',
  'mfa.totp': 'Authenticator app (TOTP)', 'mfa.webauthn': 'Security key (WebAuthn)', 'mfa.recovery_code': 'Recovery codes',
  'groups.details': 'Group', 'groups.rename': 'Group name', 'groups.removeMember': 'Remove',
  'groups.confirmRemoveMember': 'Remove {x} from {g}? The user loses the group\'s policies.', 'groups.confirmDetach': 'Detach {x} from {g}? Its members lose these accesses.',
  'nav.tenants': 'Tenants', 'nav.users': 'Users', 'nav.groups': 'Groups', 'nav.policies': 'Policies', 'nav.sessions': 'Sessions',
  'nav.audit': 'Audit trail', 'nav.throttles': 'Login throttling', 'nav.backends': 'Backends', 'nav.explain': 'Access explainer',
  'nav.main': 'Main', 'header.tenant': 'Tenant', 'header.logout': 'Log out', 'header.lang': 'Language',
  'common.loading': 'Loading…', 'common.empty': 'Nothing here yet.', 'common.create': 'Create', 'common.save': 'Save',
  'common.delete': 'Delete', 'common.cancel': 'Cancel', 'common.edit': 'Edit', 'common.search': 'Search', 'common.name': 'Name',
  'common.confirm': 'Confirm', 'common.confirmDelete': 'Delete {x}? This cannot be undone.', 'common.actions': 'Actions',
  'common.previous': 'Previous', 'common.next': 'Next', 'common.page': '{from}–{to} of {total}', 'common.saved': 'Saved',
  'common.refresh': 'Refresh', 'common.description': 'Description', 'common.yes': 'yes', 'common.no': 'no', 'common.close': 'Close',
  'tenants.domains': 'Domain names (comma separated)', 'tenants.phone': 'Phone', 'tenants.contact': 'Contact',
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
  'audit.from': 'From', 'audit.to': 'To', 'audit.filter': 'Action, login, address, actor or target contains',
  'audit.action.hint': 'Exact, e.g. login or users.create', 'audit.outcome.any': 'Any', 'audit.actor.hint': 'A user uuid, a service name or a login',
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
  'common.skip': 'Aller au contenu', 'common.menu': 'Menu', 'common.pagination': 'Pages', 'common.any': '(tous)',
  'common.reload': 'Recharger',
  'acl.empty': 'vide', 'acl.tooLong': 'plus de {n} caractères', 'acl.space': 'espace', 'acl.wildcards': 'trop de jokers',
  'acl.tooMany': 'plus de {n} accès',
  'users.filters': 'Filtres', 'users.purpose': 'Usage', 'purpose.user': 'utilisateur', 'purpose.internal': 'interne', 'purpose.external_api': 'API externe',
  'users.inGroup': 'Membre du groupe', 'users.hasPolicy': 'Politique accordée', 'users.recurse': 'Inclure les sous-tenants',
  'users.editTitle': 'Modifier {x}', 'users.confirmDisable': 'Désactiver {x} ? Toutes les sessions de cet utilisateur prennent fin aussitôt.',
  'users.confirmDetach': 'Détacher la politique {x} de {u} ?',
  'users.tokens': 'Jetons de rafraîchissement', 'users.tokensNone': 'Aucun jeton de rafraîchissement.', 'users.tokenCreated': 'créé le {d}',
  'users.tokenConfirm': 'Supprimer le jeton de rafraîchissement de {x} ? Cette application devra se reconnecter.',
  'users.joinGroup': 'Ajouter au groupe', 'users.leaveGroup': 'Retirer du groupe', 'users.confirmLeave': 'Retirer {x} du groupe {g} ? L\'utilisateur perd les politiques du groupe.',
  'tenants.contactNone': '(aucun contact)', 'tenants.domainsColumn': 'Noms de domaine',
  'sessions.session': 'Session', 'sessions.mine': 'cette console',
  'audit.details': 'Détails', 'audit.only': 'N\'afficher que cette action', 'users.audit': 'Journal d\'audit de cet utilisateur',
  'backends.plain': 'aucune (en clair)', 'backends.searchFilters': 'Filtre de recherche (facultatif ; {username}, {user_login_attribute})',
  'backends.remove': 'Supprimer la configuration', 'backends.confirmRemove': 'Supprimer la configuration LDAP de ce tenant ? Ses utilisateurs LDAP ne pourront plus se connecter.',
  'backends.removed': 'Configuration supprimée', 'backends.health': 'Disponibilité (GET /health/ready)', 'backends.component': 'Composant',
  'backends.state': 'État', 'backends.ready': 'prêt', 'backends.notReady': 'pas prêt',
  'login.title': 'Connexion', 'login.username': 'Identifiant', 'login.password': 'Mot de passe', 'login.submit': 'Se connecter',
  'login.mfa': 'Code de vérification', 'login.failed': 'Identifiant ou mot de passe incorrect', 'login.expired': 'Votre session est terminée : reconnectez-vous',
  'login.throttled': 'Trop de tentatives : réessayez plus tard',
  'login.mfaAsked': 'Saisissez le code de votre application d\'authentification.', 'login.mfaFailed': 'Code incorrect : réessayez',
  'login.mfaEnrol': 'Ce compte doit enregistrer un second facteur avant d\'utiliser la console.',
  'login.recovery': 'Code de secours', 'login.useRecovery': 'Utiliser plutôt un code de secours', 'login.useTotp': 'Utiliser plutôt l\'application d\'authentification',
  'method.default': 'Par défaut du tenant', 'method.native': 'Mot de passe (natif)', 'method.ldap': 'LDAP', 'method.saml': 'SAML', 'method.oidc': 'OpenID Connect',
  'tenants.method': 'Méthode d\'authentification par défaut', 'tenants.moveUnder': 'Parent (déplacer sous)', 'tenants.parentDefault': '(le tenant courant)',
  'tenants.address': 'Adresse', 'tenants.line_1': 'Adresse, ligne 1', 'tenants.line_2': 'Adresse, ligne 2', 'tenants.city': 'Ville',
  'tenants.state': 'État ou région', 'tenants.country': 'Pays', 'tenants.zip_code': 'Code postal',
  'users.method': 'Méthode d\'authentification', 'users.setPassword': 'Définir le mot de passe', 'users.newPassword': 'Nouveau mot de passe',
  'users.passwordAgain': 'Nouveau mot de passe (confirmation)', 'users.passwordMismatch': 'Les deux mots de passe diffèrent',
  'users.passwordConfirm': 'Définir un nouveau mot de passe pour {x} ? Toutes les sessions de cet utilisateur prennent fin.', 'users.passwordSet': 'Mot de passe défini ; les sessions de l\'utilisateur ont pris fin.',
  'users.emails': 'Adresses e-mail', 'users.main': 'principale', 'users.confirmed': 'confirmée', 'users.unconfirmed': 'non confirmée',
  'users.makeMain': 'Rendre principale', 'users.emailConfirmRemove': 'Supprimer l\'adresse {x} ?', 'users.addEmail': 'Ajouter l\'adresse',
  'users.newEmail': 'Nouvelle adresse e-mail', 'users.markConfirmed': 'Marquer comme confirmée',
  'users.mfa': 'Seconds facteurs (MFA)', 'users.mfaNone': 'Aucun second facteur.', 'users.mfaRemaining': '{n} codes restants',
  'users.mfaConfirmRemove': 'Supprimer le second facteur {x} ? L\'utilisateur pourra alors se connecter sans lui.',
  'mfa.totp': 'Application d\'authentification (TOTP)', 'mfa.webauthn': 'Clé de sécurité (WebAuthn)', 'mfa.recovery_code': 'Codes de secours',
  'groups.details': 'Groupe', 'groups.rename': 'Nom du groupe', 'groups.removeMember': 'Retirer',
  'groups.confirmRemoveMember': 'Retirer {x} de {g} ? L\'utilisateur perd les politiques du groupe.', 'groups.confirmDetach': 'Détacher {x} de {g} ? Ses membres perdent ces accès.',
  'nav.tenants': 'Tenants', 'nav.users': 'Utilisateurs', 'nav.groups': 'Groupes', 'nav.policies': 'Politiques', 'nav.sessions': 'Sessions',
  'nav.audit': 'Journal d\'audit', 'nav.throttles': 'Limitation des connexions', 'nav.backends': 'Backends', 'nav.explain': 'Explication des accès',
  'nav.main': 'Principal', 'header.tenant': 'Tenant', 'header.logout': 'Se déconnecter', 'header.lang': 'Langue',
  'common.loading': 'Chargement…', 'common.empty': 'Rien pour l\'instant.', 'common.create': 'Créer', 'common.save': 'Enregistrer',
  'common.delete': 'Supprimer', 'common.cancel': 'Annuler', 'common.edit': 'Modifier', 'common.search': 'Rechercher', 'common.name': 'Nom',
  'common.confirm': 'Confirmer', 'common.confirmDelete': 'Supprimer {x} ? C\'est définitif.', 'common.actions': 'Actions',
  'common.previous': 'Précédent', 'common.next': 'Suivant', 'common.page': '{from}–{to} sur {total}', 'common.saved': 'Enregistré',
  'common.refresh': 'Actualiser', 'common.description': 'Description', 'common.yes': 'oui', 'common.no': 'non', 'common.close': 'Fermer',
  'tenants.domains': 'Noms de domaine (séparés par des virgules)', 'tenants.phone': 'Téléphone', 'tenants.contact': 'Contact',
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
  'audit.from': 'Du', 'audit.to': 'Au', 'audit.filter': 'Action, identifiant, adresse, auteur ou cible contient',
  'audit.action.hint': 'Exacte, par exemple login ou users.create', 'audit.outcome.any': 'Tous', 'audit.actor.hint': 'Un uuid d\'utilisateur, un nom de service ou un identifiant',
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

/** `key` when the strings have it (a value from the API, such as a factor type), else `fallback`. */
export function tOr(key: string, fallback: string): string {
  return Object.hasOwn(tables[current], key) ? t(key as Key) : fallback;
}

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  // A placeholder given no value stays as it is: some strings show the API's own templates ({username}).
  return tables[current][key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export type { Key };
